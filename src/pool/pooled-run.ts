import { log } from '../common/logger.js';
import {
  executePlan,
  type EgressDeps,
  type Execution,
  type WarmClaim,
  type WarmSource,
} from '../launch/execute-plan.js';
import type { RunPlan } from '../launch/run-plan.js';
import type { SignalSource } from '../launch/signal-policy.js';
import { bumpCounters } from '../session/sandbox-counters.js';
import {
  claimWarmEntry,
  imageStoreUnchangedSince,
  readPool,
  removeWarmEntry,
  warmEntries,
  type WarmEntry,
} from './pool-index.js';
import { perRunEnvOf, poolabilityOf } from './pool-key.js';
import { EXEC_WRAPPER_SCRIPT } from './pool-scripts.js';
import type { PoolSettings } from './pool-settings.js';
import type { SessionContext } from '../context/session-context.js';
import { requestRefill } from './pool-refill-spawn.js';
import { agentSocketOf, linkSessionAgent, removeAgentDir, unlinkSessionAgent } from './warm-agent-dir.js';
import { agentSocketProblem } from '../launch/warm-agent-client.js';
import { claimEgressFor } from './warm-egress.js';
import { engineOfPlan, remoteRoad } from './remote-pool.js';
import { GuardedOutput } from './remote-output.js';
import type { ClaimedEgress } from '../network/warm-egress.js';
import type { NetworkRecord } from '../network/network-record.js';
import type { ProxiedCredential } from '../network/egress-secrets.js';
import { imageIdInStoreIndex } from '../runtime/image-store-index.js';

/**
 * `mino run` with the warm pool: a run whose plan matches a warm container (same pool key, same
 * image ID) claims it and the executor (launch/execute-plan.ts) runs its command there through
 * the container's warm agent when it has one and the run no terminal (no podman call; the
 * `podman rename` to the session's container name only for a command that runs longer than
 * RENAME_DELAY_MS), else with `podman exec`; any other run starts cold with `podman run`, as
 * without a pool. Podman calls of a warm start with `podman exec`: it, with `podman rename` alongside;
 * `podman image inspect` before the exec only when the engine's image store changed since the
 * warm container's image ID was read. The used container is removed and the pool topped up by a
 * detached `mino __pool-refill` afterwards.
 */

/** How a run uses the pool. */
export interface PoolUse {
  settings: PoolSettings;
  /** `--fresh`: never a warm container. */
  fresh: boolean;
  /**
   * Hands a used container back for removal and asks for the background refill (default:
   * requestRefill, one detached `mino __pool-refill` per pool at a time; tests record it).
   */
  refill?: (key: string, settings: PoolSettings, usedContainer?: string) => void;
  /**
   * A branch plan: moves the run's working copy into the claimed warm container's folder (named
   * after it) before its command runs; false when they do not match (the run then starts cold).
   */
  adopt?: (warmName: string) => boolean;
  /** Hands a warm container's egress proxy to the run (default: warm-egress.ts; tests replace it). */
  claimEgress?: (
    ctx: SessionContext,
    plan: RunPlan,
    warmName: string,
    credentials?: readonly ProxiedCredential[],
  ) => Promise<ClaimedEgress>;
  /** A terminating plan's credentials (secret), for the claimed proxy (pool/warm-tls.ts). */
  credentials?: readonly ProxiedCredential[];
  /**
   * A contained run on a remote engine tried warm first: starts its proxy there when no warm
   * container serves it (run/remote-egress-run.ts), for the cold start (see executeWithPool).
   */
  coldOnEngine?: () => Promise<ColdOnEngine>;
}

/** A remote session's proxy started for a cold start after all (PoolUse.coldOnEngine). */
export interface ColdOnEngine {
  /** The plan to start cold: its proxy variables at that proxy. */
  plan: RunPlan;
  /** The session ended: the proxy's final record, and the proxy goes. */
  end(): Promise<NetworkRecord | undefined>;
  /** The session did not start: the proxy goes. */
  abort(): Promise<void>;
}

/** No warm container served a run that must not start cold in the executor (PoolUse.coldOnEngine). */
class NoWarmClaim extends Error {}

/** What the pool would do for a plan (for `--dry-run`, and the decision itself). */
export type PoolVerdict =
  | { kind: 'off' | 'fresh'; message: string }
  | { kind: 'unpoolable'; message: string }
  | { kind: 'empty' | 'warm'; key: string; warm: WarmEntry[]; message: string };

/** Decides, without podman, whether the pool would serve a run of `plan` now. */
export function poolVerdict(stateDir: string, plan: RunPlan, use: PoolUse, now = new Date()): PoolVerdict {
  if (!use.settings.enabled)
    return { kind: 'off', message: 'Pool: off (pool.enabled = false); the run starts a new container' };
  if (use.fresh) return { kind: 'fresh', message: 'Pool: bypassed (--fresh); the run starts a new container' };
  const p = poolabilityOf(plan);
  if (!p.poolable) return { kind: 'unpoolable', message: `Pool: this run cannot be served warm: ${p.reason}` };
  const warm = warmEntries(stateDir, p.key, Math.floor(now.getTime() / 1000));
  if (warm.length === 0) {
    const known = readPool(stateDir, p.key) !== undefined;
    return {
      kind: 'empty',
      key: p.key,
      warm,
      message: `Pool: no warm container for this plan (key ${p.key.slice(0, 12)})${known ? '' : "; 'mino pool warm' with the same flags starts some"}; the run starts a new container`,
    };
  }
  return {
    kind: 'warm',
    key: p.key,
    warm,
    message: `Pool: a warm container would serve this run (key ${p.key.slice(0, 12)}, ${warm.length} warm) ${roadOf(stateDir, plan, warm[0]!)}`,
  };
}

/** How a warm container would run the plan's command: through its agent, or with `podman exec` and why. */
function roadOf(stateDir: string, plan: RunPlan, entry: WarmEntry): string {
  const engine = engineOfPlan(plan);
  if (engine !== undefined) return remoteRoad(engine);
  if (plan.spec.tty)
    return 'with podman exec -t (the warm agent has no pseudo-terminal: terminal runs keep podman exec)';
  const problem = agentSocketProblem(agentSocketOf(stateDir, entry.name));
  return problem === undefined
    ? 'through its agent (no podman call)'
    : `with podman exec (${problem}: the image has no node, or its agent has not started yet)`;
}

/**
 * Starts the plan's session through the executor, from the pool when it can (see the module
 * comment), and counts it (sandbox counters: the executor counts the containers created and their
 * start time, this the pool hits and misses).
 */
export async function executeWithPool(
  ctx: SessionContext,
  plan: RunPlan,
  use: PoolUse,
  signals?: SignalSource,
  egress?: EgressDeps,
): Promise<Execution> {
  const verdict = poolVerdict(ctx.stateDir, plan, use);
  const claims = verdict.kind === 'warm' ? new PoolClaims(ctx, verdict.key, verdict.warm, use) : undefined;
  // A remote contained run's cold start needs its proxy on the engine, started only now.
  const cold = use.coldOnEngine;
  const warm: WarmSource | undefined =
    claims && cold
      ? {
          claim: async (p) => {
            const claim = await claims.claim(p);
            if (!claim) throw new NoWarmClaim();
            return claim;
          },
        }
      : claims;
  const outcome =
    cold && !claims
      ? await executeColdOnEngine(ctx, cold, signals)
      : await executePlan(ctx.runtime, plan, { signals, egress, warm, countIn: ctx.stateDir }).catch((err: unknown) => {
          if (!(err instanceof NoWarmClaim) || !cold) throw err;
          return executeColdOnEngine(ctx, cold, signals);
        });
  if (claims?.served || (verdict.kind !== 'warm' && verdict.kind !== 'empty')) return outcome;
  count(ctx.stateDir, { pool_misses: 1 });
  // A run the pool could have served refills it when it is a pool someone asked for.
  if (readPool(ctx.stateDir, verdict.key) !== undefined) refillOf(ctx, use)(verdict.key, use.settings);
  return outcome;
}

/** Starts a remote contained run cold after all: its proxy on the engine first, its record back at the end. */
async function executeColdOnEngine(
  ctx: SessionContext,
  start: NonNullable<PoolUse['coldOnEngine']>,
  signals: SignalSource | undefined,
): Promise<Execution> {
  const cold = await start();
  const outcome = await executePlan(ctx.runtime, cold.plan, { signals, countIn: ctx.stateDir }).catch(
    async (err: unknown) => {
      await cold.abort();
      throw err;
    },
  );
  if (outcome.kind !== 'exited') return outcome;
  try {
    const network = await cold.end();
    return { ...outcome, ...(network ? { network } : {}) };
  } catch (err) {
    return { ...outcome, networkError: err as Error };
  }
}

/**
 * The refill a run asks for (see PoolUse.refill). The default one is asked after this turn of
 * the event loop: a run records its end first, and that record's fsync does not wait for the
 * refill's start (~10 ms at the end of every pooled run).
 */
function refillOf(ctx: SessionContext, use: PoolUse): NonNullable<PoolUse['refill']> {
  return (
    use.refill ?? ((key, settings, used) => void setImmediate(() => requestRefill(ctx.stateDir, key, settings, used)))
  );
}

/**
 * How long a run through the agent waits before it renames its container (a shorter run never
 * does). Long enough that a burst of short runs on a busy machine starts no podman at all.
 */
const RENAME_DELAY_MS = 1000;

/**
 * How long the agent of a container that kept its warm name keeps it after the run (the refill
 * removes it sooner): its exit and clean-up, a podman process per container, wait until a burst
 * of runs is over. A renamed container holds the session's name, so its agent ends at once.
 */
const AGENT_LINGER_SECONDS = 30;

/**
 * `podman rename` of a claimed container to the session's container name (for `mino stop`,
 * `mino exec` by name), started after `delayMs` unless the run ended first. `done` settles once
 * the rename is over or cancelled before it began (false then: the container keeps its warm name).
 */
class LateRename {
  readonly done: Promise<boolean>;
  private settle!: (ok: boolean) => void;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly entry: WarmEntry,
    private readonly name: string,
    delayMs: number,
  ) {
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
    if (delayMs <= 0) this.start();
    else this.timer = setTimeout(() => this.start(), delayMs);
  }

  /** Starts the rename now if it has not begun; settles with its outcome. */
  now(): Promise<boolean> {
    this.start();
    return this.done;
  }

  /** Drops a rename that has not begun (the run is over); true when it had not (the container keeps its warm name). */
  cancel(): boolean {
    if (this.started) return false;
    clearTimeout(this.timer);
    this.started = true;
    this.settle(false);
    return true;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    clearTimeout(this.timer);
    this.ctx.runtime.renameContainer(this.entry.id, this.name).then(
      (ok) => this.settle(ok),
      (err: unknown) => {
        log.warn('could not rename the warm container', { container: this.entry.name, error: String(err) });
        this.settle(false);
      },
    );
  }
}

/** Adds to the sandbox counters; a failure is logged, never thrown (the run matters more). */
function count(stateDir: string, delta: Parameters<typeof bumpCounters>[1]): void {
  try {
    bumpCounters(stateDir, delta);
  } catch (err) {
    log.warn('could not update the sandbox counters', { error: String(err) });
  }
}

/**
 * The warm containers of one pool key, claimed one by one for a run (the executor's
 * {@link WarmSource}). No more claims (all taken by other runs, or started from an image the
 * reference no longer names) makes the run start cold. The claim is the rename(2) of its index
 * entry, atomic among the runs of this state directory (the only ones whose warm containers these
 * are); `podman rename` to the session's container name, itself atomic in the engine, runs
 * alongside the image check and the exec (by container ID), so it costs no time.
 */
class PoolClaims implements WarmSource {
  /** True once a claimed container ran the command (a hit). */
  served = false;
  private next = 0;
  private stopped = false;
  private readonly store: string | undefined;

  constructor(
    private readonly ctx: SessionContext,
    private readonly key: string,
    private readonly warm: WarmEntry[],
    private readonly use: PoolUse,
  ) {
    this.store = readPool(ctx.stateDir, key)?.image_store;
  }

  async claim(plan: RunPlan): Promise<WarmClaim | undefined> {
    const { ctx, key, warm, use } = this;
    while (!this.stopped && this.next < warm.length) {
      const entry = warm[this.next++]!;
      if (!claimWarmEntry(ctx.stateDir, key, entry.name)) continue;
      // A contained run: the container's proxy takes the run's policy first, or the container is passed over.
      const network = plan.network.egress ? await this.claimEgress(plan, entry) : undefined;
      if (plan.network.egress && !network) continue;
      // A branch plan's copy moves into the container's folder first (before any rename: a
      // container that does not fit is removed under its warm name, and the run starts cold).
      if (use.adopt && !use.adopt(entry.name)) {
        log.info('warm container does not fit the working copy; starting cold', { container: entry.name });
        removeAgentDir(ctx.stateDir, entry.name);
        refillOf(ctx, use)(key, use.settings, entry.id);
        this.stopped = true;
        return undefined;
      }
      const socket = agentSocketOf(ctx.stateDir, entry.name);
      const agent = !(plan.spec.tty ?? false) && agentSocketProblem(socket) === undefined ? socket : undefined;
      // Through the agent a short command never waits for podman: the rename waits a moment.
      const rename = new LateRename(ctx, entry, plan.containerName, agent === undefined ? 0 : RENAME_DELAY_MS);
      const renamed = rename.done;
      // No image added, removed or tagged since the warm container's image ID was read: the
      // reference still names it, and podman need not be asked. Else the engine's image store
      // index says which image it names now (podman is asked only when it cannot).
      const imageId = imageStoreUnchangedSince(this.store, entry.verified_at)
        ? entry.image_id
        : ((this.store === undefined ? undefined : imageIdInStoreIndex(this.store, plan.image)) ??
          (await ctx.runtime.imageInspect(plan.image).catch(() => undefined))?.id);
      if (imageId !== entry.image_id) {
        // The image was rebuilt since the pool was warmed: never serve the old one.
        log.info('warm container started from another image; starting cold', { container: entry.name });
        for (const other of warm) if (other.image_id === entry.image_id) removeWarmEntry(ctx.stateDir, key, other.name);
        removeAgentDir(ctx.stateDir, entry.name);
        this.stopped = true;
        if (rename.cancel()) {
          refillOf(ctx, use)(key, use.settings, entry.id);
          return undefined;
        }
        // Renamed already: it holds the session's container name, which the cold start needs.
        await rename.done;
        await ctx.runtime
          .remove(entry.id)
          .catch((err: unknown) => log.warn('could not remove a stale warm container', { error: String(err) }));
        refillOf(ctx, use)(key, use.settings);
        return undefined;
      }
      log.info('warm container claimed', { container: entry.name, session: plan.sessionName });
      if (agent !== undefined) linkSessionAgent(ctx.stateDir, plan.sessionName, entry.name);
      count(ctx.stateDir, { pool_hits: 1 });
      this.served = true;
      const env = perRunEnvOf(plan);
      const remote = engineOfPlan(plan) !== undefined;
      // On a remote engine podman exec can lose output: it comes through mino, checked (remote-output.ts).
      const output = remote && !(plan.spec.tty ?? false) ? new GuardedOutput(ctx.runtime, entry.id) : undefined;
      return {
        container: entry.id,
        wrapper: output?.wrapper ?? ['/bin/sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino'],
        ...(output ? { output } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(agent === undefined ? {} : { agent, lingerSeconds: () => (rename.cancel() ? AGENT_LINGER_SECONDS : 0) }),
        // A remote proxy's end removes its network, the container on it too: once its rename is
        // done, and killed first (its command has ended; `network rm` would wait for its stop).
        ...(network
          ? {
              network: remote
                ? {
                    finish: () =>
                      renamed.then(() => ctx.runtime.kill(entry.id).catch(() => false)).then(() => network.finish()),
                  }
                : network,
            }
          : {}),
        // The refill removes the container: only once `podman rename` is done with it (podman 4.3
        // can keep the new name registered when the container is removed under a rename).
        release: (viaAgent) => {
          // Through the agent a finished run no longer needs the session's name; else podman's
          // answer to the rename tells whether the container was there (see vanished).
          if (viaAgent) rename.cancel();
          else void rename.now();
          unlinkSessionAgent(ctx.stateDir, plan.sessionName);
          void renamed.then(() => {
            removeAgentDir(ctx.stateDir, entry.name);
            refillOf(ctx, use)(key, use.settings, entry.id);
          });
        },
        vanished: async (exitCode) => {
          if (exitCode !== 125 || (await renamed)) return false;
          // It was gone (removed behind mino's back): podman said so; start cold after all.
          log.info('warm container vanished; starting cold', { container: entry.name });
          this.served = false;
          // A remote one's claimed proxy (the session's name now) and its warm network go first:
          // they would leak, and the cold start's proxy needs that name.
          if (remote && network) await network.finish().catch(() => undefined);
          return true;
        },
      };
    }
    return undefined;
  }

  /**
   * Hands the warm container's egress proxy the run's policy and session; undefined when it does
   * not take it (dead, or its container gone): that container is removed, never handed out.
   */
  private async claimEgress(plan: RunPlan, entry: WarmEntry): Promise<ClaimedEgress | undefined> {
    const { ctx, key, use } = this;
    try {
      return await (use.claimEgress ?? claimEgressFor)(ctx, plan, entry.name, use.credentials);
    } catch (err) {
      log.info('the warm egress proxy did not take the claim; passing its container over', {
        container: entry.name,
        error: String(err),
      });
      removeAgentDir(ctx.stateDir, entry.name);
      refillOf(ctx, use)(key, use.settings, entry.id);
      return undefined;
    }
  }
}
