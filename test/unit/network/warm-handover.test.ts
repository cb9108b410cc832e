import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlRequest, serveControl } from '../../../src/network/control.js';
import { readEgressLaunchInfo, readHelperInfo, type EgressLaunch } from '../../../src/network/egress-launch.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { newNetworkRecord } from '../../../src/network/network-record.js';
import { moveToSession } from '../../../src/network/warm-handover.js';

/** A warm proxy's directory becoming a session's, on real files and a real control socket. */

let base = '';
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'mino-handover-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const WARM = 'mino.warm.0123456789ab.cdef0123';
const deny = { mode: 'allowlist' as const, allow: [], deny: [] };

function warmDir(): { launch: EgressLaunch; paths: ReturnType<typeof egressPaths> } {
  const paths = egressPaths(base, 'statekey', WARM);
  mkdirSync(paths.dir, { mode: 0o700 });
  const launch: EgressLaunch = {
    version: 1,
    session: WARM,
    stateKey: 'statekey',
    stateDir: join(base, 'state'),
    audit: false,
    policy: deny,
    presets: [],
    listen: { host: '127.0.0.1', port: 3128 },
    rootless: true,
    ownerPid: 1,
    startupTimeoutMs: 1000,
    warm: true,
  };
  writeFileSync(paths.launch, JSON.stringify(launch));
  return { launch, paths };
}

const helper = { pid: process.pid, start: '1', session: WARM, stateKey: 'statekey' };
const handover = {
  session: 'claimed-1',
  policy: { mode: 'learn' as const, allow: [], deny: [] },
  presets: ['agent'],
  audit: true,
};

describe('moveToSession', () => {
  it("moves the directory to the session's name, rewrites its files; the control socket moves along", async () => {
    const { launch, paths } = warmDir();
    const record = newNetworkRecord('x', 'allowlist', deny, []);
    const server = await serveControl(paths.control, () => ({ ok: true, policy: deny, record }));
    try {
      const moved = moveToSession(paths, launch, helper, handover);
      expect(moved.paths.dir).toBe(egressPaths(base, 'statekey', 'claimed-1').dir);
      expect(existsSync(paths.dir)).toBe(false);
      const info = readEgressLaunchInfo(moved.paths.launch);
      expect(info).toMatchObject({ session: 'claimed-1', audit: true, policy: handover.policy, presets: ['agent'] });
      expect(info).not.toHaveProperty('warm');
      expect(readHelperInfo(moved.paths.helper)).toMatchObject({ pid: process.pid, session: 'claimed-1' });
      expect(await controlRequest(moved.paths.control, { op: 'status' })).toMatchObject({ ok: true });
    } finally {
      server.close();
    }
  });

  it('replaces a leftover directory of that session name; refuses a bad name, moving nothing', () => {
    const { launch, paths } = warmDir();
    const old = egressPaths(base, 'statekey', 'claimed-1');
    mkdirSync(old.dir);
    writeFileSync(join(old.dir, 'stale'), '');
    expect(() => moveToSession(paths, launch, helper, { ...handover, session: '../x' })).toThrow(/no valid session/);
    expect(existsSync(paths.dir)).toBe(true);
    moveToSession(paths, launch, helper, handover);
    expect(existsSync(join(old.dir, 'stale'))).toBe(false);
    expect(existsSync(old.launch)).toBe(true);
  });
});
