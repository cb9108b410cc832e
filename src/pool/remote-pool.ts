import { LABEL_ENGINE } from '../session/session-labels.js';
import { listPoolKeys, readPool } from './pool-index.js';
import { poolabilityOf, type PoolablePlan } from './pool-key.js';
import { liveSyncHelper } from './warm-sync-helper.js';

/**
 * The warm pool on a remote engine (src/engine/): what differs from this machine's.
 * - A remote plan (launch/remote-plan.ts) mounts the project's shipped volume and carries the
 *   engine's label, so its pool key differs from the same run's here and from any other engine's.
 * - Its warm containers have no warm agent: the agent's socket lives in a folder of this machine
 *   mounted into the container, which an engine elsewhere cannot mount. Their main process is the
 *   shell's sleep, and a claimed container runs the command with `podman exec` through the
 *   engine's shared ssh tunnel.
 * - The pool record names the engine, so the background refill and `mino pool drain` reach it.
 * - A contained plan's warm containers each come with a proxy container and an internal network
 *   of their own there (remote-warm-egress.ts), claimed with them; a terminating one's trust the
 *   pool's CA (remote-warm-tls.ts), whose proxies take the run's credentials at the claim.
 */

/** The registered engine a plan was made for (its `io.mino.engine` label); undefined: this machine's. */
export function engineOfPlan(plan: { labels: Readonly<Record<string, string>> }): string | undefined {
  return plan.labels[LABEL_ENGINE];
}

/** How a warm container on `engine` runs a claimed command, for `--dry-run`. */
export function remoteRoad(engine: string): string {
  return `on engine ${engine} with podman exec through its ssh tunnel (a warm agent's socket cannot reach another machine)`;
}

/** The engines (undefined: this machine's) with pools in this state directory, this machine's first. */
export function poolEngines(stateDir: string): (string | undefined)[] {
  const remote = new Set<string>();
  for (const key of listPoolKeys(stateDir)) {
    const engine = readPool(stateDir, key)?.engine;
    if (engine !== undefined) remote.add(engine);
  }
  return [undefined, ...[...remote].sort()];
}

/**
 * The live warm sync helper (warm-sync-helper.ts) of the pool `plan` (a remote plan) would be
 * served from, when that pool was warmed on the plan's engine; undefined otherwise.
 */
export function syncHelperOfPlan(
  stateDir: string,
  plan: PoolablePlan & { labels: Readonly<Record<string, string>> },
): string | undefined {
  const engine = engineOfPlan(plan);
  const p = poolabilityOf(plan);
  if (engine === undefined || !p.poolable || readPool(stateDir, p.key)?.engine !== engine) return undefined;
  return liveSyncHelper(stateDir, p.key);
}
