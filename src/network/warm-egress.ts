import { controlRequest } from './control.js';
import { readHelperInfo } from './egress-launch.js';
import type { ProxiedCredential } from './egress-secrets.js';
import { egressPaths, egressPathsOf } from './egress-paths.js';
import type { NetworkRecord } from './network-record.js';
import type { PolicyText } from './policy.js';
import { finishProxy, stopStaleProxy } from './session-egress.js';

/**
 * The run's side of a warm container's proxy (proxy-main.ts, warm-handover.ts): the claim hands
 * it the session's name and policy before the run's command starts; the session's end asks it for
 * the final record, as for a cold session. A proxy that does not take the claim (dead, its
 * container gone, no answer in time) throws: its container must not be handed out.
 */

/** Who claims, and the policy the proxy enforces from then on. */
export interface EgressClaim {
  session: string;
  stateDir: string;
  stateKey: string;
  audit: boolean;
  policy: PolicyText;
  presets: readonly string[];
  /** The run's credentials (secret), for a proxy started with a CA. */
  credentials?: readonly ProxiedCredential[];
}

/** A claimed warm proxy, as the run holds it. */
export interface ClaimedEgress {
  /** The session ended: the final record, and the proxy stops. */
  finish(): Promise<NetworkRecord | undefined>;
}

/** How long a claim waits for the warm proxy's answer before the container is passed over. */
const CLAIM_TIMEOUT_MS = 2000;

/** Claims the proxy of the warm container whose egress directory is `warmDir` for `claim`'s session. */
export async function claimWarmEgress(warmDir: string, claim: EgressClaim): Promise<ClaimedEgress> {
  const warm = egressPathsOf(warmDir);
  const target = egressPaths(warm.base, claim.stateKey, claim.session);
  stopStaleProxy(target);
  const res = await controlRequest(
    warm.control,
    {
      op: 'claim',
      session: claim.session,
      policy: claim.policy,
      presets: [...claim.presets],
      audit: claim.audit,
      ...(claim.credentials ? { credentials: [...claim.credentials] } : {}),
    },
    CLAIM_TIMEOUT_MS,
  );
  if (!res.ok) throw new Error(`the warm egress proxy refused the claim: ${res.error}`);
  const pid = readHelperInfo(target.helper)?.pid;
  return { finish: () => finishProxy(target, claim.stateDir, claim.session, pid) };
}
