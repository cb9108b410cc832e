import { readFileSync } from 'node:fs';
import { policyOf, type EgressPolicy, type PolicyText } from './policy.js';

/**
 * What `mino run` tells a session's proxy when it starts it (`launch.json`, 0600, in the
 * session's egress directory), and what the proxy records about itself (`helper.json`) so a
 * later mino can find and reap it.
 */

/** The proxy's input. */
export interface EgressLaunch {
  version: 1;
  session: string;
  stateKey: string;
  stateDir: string;
  /** Audit log on (general.audit_log). */
  audit: boolean;
  policy: PolicyText;
  presets: string[];
  listen: { host: string; port: number };
  /** Podman runs rootless: enter the container's user namespace to reach its network namespace. */
  rootless: boolean;
  /** The `mino run` process; while the container has not attached, its death ends the proxy. */
  ownerPid: number;
  /** How long the proxy waits for its container before giving up (ms). */
  startupTimeoutMs: number;
  /** Secrets (session CA, credentials) follow on the proxy's stdin (egress-secrets.ts). */
  secrets?: boolean;
  /**
   * The proxy of a warm container (pool/): owned by the pool, not by a session; it denies
   * everything until a run claims it (control.ts `claim`), which hands it the session's policy
   * and name. Until then it writes no record, and reaping leaves it to its container.
   */
  warm?: boolean;
}

/** The running proxy. */
export interface EgressHelperInfo {
  pid: number;
  /** /proc start time of the proxy process (guards against PID reuse). */
  start: string;
  session: string;
  stateKey: string;
}

/** Reads and checks a launch file; throws with a clear message when it is unusable. */
export function readEgressLaunch(path: string): { launch: EgressLaunch; policy: EgressPolicy } {
  const launch = JSON.parse(readFileSync(path, 'utf8')) as EgressLaunch;
  if (launch?.version !== 1 || typeof launch.session !== 'string' || typeof launch.stateDir !== 'string') {
    throw new Error(`${path} is not an egress launch file of this mino version`);
  }
  if (launch.policy.mode !== 'allowlist' && launch.policy.mode !== 'learn')
    throw new Error(`${path}: unknown mode ${String(launch.policy.mode)}`);
  const policy: EgressPolicy = policyOf(launch.policy);
  return { launch, policy };
}

/** Reads a launch file without checking the policy; undefined when absent or unreadable. */
export function readEgressLaunchInfo(path: string): EgressLaunch | undefined {
  try {
    const launch = JSON.parse(readFileSync(path, 'utf8')) as EgressLaunch;
    return launch?.version === 1 && typeof launch.session === 'string' && typeof launch.stateKey === 'string'
      ? launch
      : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a helper file; undefined when absent or unreadable. */
export function readHelperInfo(path: string): EgressHelperInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as EgressHelperInfo;
    return Number.isInteger(info.pid) && info.pid > 0 && typeof info.start === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}
