import { renameSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-write.js';
import type { EgressHelperInfo, EgressLaunch } from './egress-launch.js';
import { egressPaths, type EgressPaths } from './egress-paths.js';
import type { PolicyText } from './policy.js';

/**
 * A warm container's proxy becoming a session's (the proxy's side of control.ts `claim`): its
 * egress directory moves, by rename(2), to the directory of the claiming session's name, so
 * `mino network show|allow|deny NAME`, `mino stop NAME` and reaping find it exactly as they find
 * a cold session's proxy; its launch and helper files then name the session. The control socket
 * moves with its directory and keeps serving.
 */

/** Session names as mino accepts them (session/session-name.ts): the name picks a directory. */
const SESSION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

/** What the claim hands over (control.ts). */
export interface WarmHandover {
  session: string;
  policy: PolicyText;
  presets: string[];
  audit: boolean;
}

/**
 * Moves the warm proxy's directory `from` to the session's and rewrites its launch and helper
 * files there; returns the new paths. Throws (nothing moved) on a bad session name. A directory
 * of an earlier session of that name is replaced: the claiming `mino run` stopped its proxy.
 */
export function moveToSession(
  from: EgressPaths,
  launch: EgressLaunch,
  helper: EgressHelperInfo,
  handover: WarmHandover,
): { paths: EgressPaths; launch: EgressLaunch; helper: EgressHelperInfo } {
  if (!SESSION_NAME.test(handover.session)) throw new Error('the claim names no valid session');
  const to = egressPaths(from.base, launch.stateKey, handover.session);
  rmSync(to.dir, { recursive: true, force: true });
  renameSync(from.dir, to.dir);
  const { warm: _warm, ...rest } = launch;
  const claimed: EgressLaunch = {
    ...rest,
    session: handover.session,
    audit: handover.audit,
    policy: handover.policy,
    presets: [...handover.presets],
  };
  const info: EgressHelperInfo = { ...helper, session: handover.session };
  writeFileAtomic(to.launch, `${JSON.stringify(claimed, null, 2)}\n`, { mode: 0o600, durable: false });
  writeFileAtomic(to.helper, `${JSON.stringify(info)}\n`, { mode: 0o600, durable: false });
  return { paths: to, launch: claimed, helper: info };
}
