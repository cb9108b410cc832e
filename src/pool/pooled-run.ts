import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../common/logger.js';
import { executePlan, forwardSignals, type EgressDeps, type Execution, type SignalSource } from '../launch/execute-plan.js';
import type { RunPlan } from '../launch/run-plan.js';
import { bumpCounters } from '../session/sandbox-counters.js';
import { claimWarmEntry, imageStoreUnchangedSince, readPool, removeWarmEntry, warmEntries, type WarmEntry } from './pool-index.js';
import { poolabilityOf } from './pool-key.js';
import { EXEC_WRAPPER_SCRIPT } from './pool-scripts.js';
import type { PoolSettings } from './pool-settings.js';
import type { SessionContext } from '../context/session-context.js';
import { spawnRefill } from './pool-refill-spawn.js';

/**
 * `mino run` with the warm pool: a run whose plan matches a warm container (same pool key, same
 * image ID) claims it and runs its command there with `podman exec`; any other run starts cold
 * with `podman run`, as without a pool. Podman calls of a warm start: `podman exec`, with
 * `podman rename` to the session's container name alongside; `podman image inspect` before the
 * exec only when the engine's image store changed since the warm container's image ID was read.
 * The used container is removed and the pool topped up by a detached `mino __pool-refill` afterwards.
 */

/** How a run uses the pool. */
export interface PoolUse {
  settings: PoolSettings;
  /** `--fresh`: never a warm container. */
  fresh: boolean;
  /** Starts the background refill (default: a detached `mino __pool-refill`; tests record it). */
  refill?: (key: string, settings: PoolSettings, usedContainer?: string) => void;
}

/** What the pool would do for a plan (for `--dry-run`, and the decision itself). */
export type PoolVerdict =
  | { kind: 'off' | 'fresh'; message: string }
  | { kind: 'unpoolable'; message: string }
  | { kind: 'empty' | 'warm'; key: string; warm: WarmEntry[]; message: string };

/** Decides, without podman, whether the pool would serve a run of `plan` now. */
export function poolVerdict(stateDir: string, plan: RunPlan, use: PoolUse, now = new Date()): PoolVerdict {
  if (!use.settings.enabled) return { kind: 'off', message: 'Pool: off (pool.enabled = false); the run starts a new container' };
  if (use.fresh) return { kind: 'fresh', message: 'Pool: bypassed (--fresh); the run starts a new container' };
  const p = poolabilityOf(plan);
  if (!p.poolable) return { kind: 'unpoolable', message: `Pool: this run cannot be served warm: ${p.reason}` };
  const warm = warmEntries(stateDir, p.key, Math.floor(now.getTime() / 1000));
  if (warm.length === 0) {
    const known = readPool(stateDir, p.key) !== undefined;
    return {
      kind: 'empty', key: p.key, warm,
      message: `Pool: no warm container for this plan (key ${p.key.slice(0, 12)})${known ? '' : "; 'mino pool warm' with the same flags starts some"}; the run starts a new container`,
    };
  }
  return { kind: 'warm', key: p.key, warm, message: `Pool: a warm container would serve this run (key ${p.key.slice(0, 12)}, ${warm.length} warm)` };
}

/**
 * Starts the plan's container, from the pool when it can (see the module comment), and counts
 * it (sandbox counters: containers created and their start time, pool hits and misses).
 */
export async function executeWithPool(ctx: SessionContext, plan: RunPlan, use: PoolUse, signals?: SignalSource, egress?: EgressDeps): Promise<Execution> {
  const verdict = poolVerdict(ctx.stateDir, plan, use);
  if (verdict.kind === 'warm') {
    const served = await runWarm(ctx, plan, verdict.key, verdict.warm, use, signals);
    if (served !== undefined) return served;
  }
  const counted = verdict.kind === 'warm' || verdict.kind === 'empty';
  const outcome = await executeCold(ctx, plan, counted, signals, egress);
  // A run the pool could have served refills it when it is a pool someone asked for.
  if (counted && readPool(ctx.stateDir, verdict.key) !== undefined) (use.refill ?? spawnRefill)(verdict.key, use.settings);
  return outcome;
}

/**
 * Starts the plan's container cold and counts it: a container created (its creation time: until
 * podman wrote the container ID, `--cidfile`, watched without polling podman; for a detached run
 * until `podman run -d` returned) and, when the pool could have served it, a miss.
 */
async function executeCold(ctx: SessionContext, plan: RunPlan, miss: boolean, signals?: SignalSource, egress?: EgressDeps): Promise<Execution> {
  const started = Date.now();
  const watch = plan.attached ? cidFileFor(ctx.stateDir) : undefined;
  try {
    const outcome = await executePlan(ctx.runtime, watch ? { ...plan, spec: { ...plan.spec, cidFile: watch.path } } : plan, signals, egress);
    const createdAt = watch ? watch.createdAt() : Date.now();
    count(ctx.stateDir, {
      ...(createdAt === undefined ? {} : { sandboxes_created: 1, creation_ms_total: createdAt - started }),
      ...(miss ? { pool_misses: 1 } : {}),
    });
    return outcome;
  } finally {
    watch?.close();
  }
}

/** Adds to the sandbox counters; a failure is logged, never thrown (the run matters more). */
function count(stateDir: string, delta: Parameters<typeof bumpCounters>[1]): void {
  if (Object.keys(delta).length === 0) return;
  try {
    bumpCounters(stateDir, delta);
  } catch (err) {
    log.warn('could not update the sandbox counters', { error: String(err) });
  }
}

/**
 * A `--cidfile` path under the state directory; podman writes it once the container exists, so
 * its modification time is the container's creation time (no podman call, no polling).
 */
function cidFileFor(stateDir: string): { path: string; createdAt: () => number | undefined; close: () => void } | undefined {
  const dir = join(stateDir, 'cid');
  const path = join(dir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    log.debug('no directory for the container ID file', { error: String(err) });
    return undefined;
  }
  return { path, createdAt: () => mtimeOf(path), close: () => rmSync(path, { force: true }) };
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Claims one of `warm` and runs the plan's command in it; undefined when none could be claimed
 * (all taken by other runs, or started from an image the reference no longer names), so the
 * caller starts cold. The claim is the rename(2) of its index entry, atomic among the runs of
 * this state directory (the only ones whose warm containers these are); `podman rename` to the
 * session's container name, itself atomic in the engine, runs alongside the image check and the
 * exec (by container ID), so it costs no time.
 */
async function runWarm(ctx: SessionContext, plan: RunPlan, key: string, warm: WarmEntry[], use: PoolUse, signals?: SignalSource): Promise<Execution | undefined> {
  const store = readPool(ctx.stateDir, key)?.image_store;
  for (const entry of warm) {
    if (!claimWarmEntry(ctx.stateDir, key, entry.name)) continue;
    const renamed = ctx.runtime.renameContainer(entry.id, plan.containerName).catch((err: unknown) => {
      log.warn('could not rename the warm container', { container: entry.name, error: String(err) });
      return false;
    });
    // No image added, removed or tagged since the warm container's image ID was read: the
    // reference still names it, and podman need not be asked.
    const imageId = imageStoreUnchangedSince(store, entry.verified_at)
      ? entry.image_id
      : (await ctx.runtime.imageInspect(plan.image).catch(() => undefined))?.id;
    if (imageId !== entry.image_id) {
      // The image was rebuilt since the pool was warmed: never serve the old one.
      log.info('warm container started from another image; starting cold', { container: entry.name });
      for (const other of warm) if (other.image_id === entry.image_id) removeWarmEntry(ctx.stateDir, key, other.name);
      await renamed;
      (use.refill ?? spawnRefill)(key, use.settings, entry.id);
      return undefined;
    }
    log.info('warm container claimed', { container: entry.name, session: plan.sessionName });
    count(ctx.stateDir, { pool_hits: 1 });
    let exitCode: number;
    try {
      exitCode = await execInWarm(ctx, plan, entry.id, signals);
    } finally {
      (use.refill ?? spawnRefill)(key, use.settings, entry.id);
    }
    if (!(await renamed) && exitCode === 125) {
      // It was gone (removed behind mino's back): podman said so; start cold after all.
      log.info('warm container vanished; starting cold', { container: entry.name });
      continue;
    }
    return { kind: 'exited', exitCode };
  }
  return undefined;
}

/**
 * Runs the plan's command in its claimed container attached to this terminal. Signals reach the
 * command as in a cold run (one policy: launch/execute-plan.ts forwardSignals): without a
 * terminal, podman runs in its own process group and mino forwards INT with `podman kill -s INT`
 * (the container's main process hands it to the command), TERM and HUP stop the container; a
 * second signal kills it. With a terminal, Ctrl-C goes through the terminal, as in a cold run.
 */
async function execInWarm(ctx: SessionContext, plan: RunPlan, container: string, signals: SignalSource = process): Promise<number> {
  const tty = plan.spec.tty ?? false;
  const release = forwardSignals(ctx.runtime, container, signals);
  try {
    // With a prelude (shared logins, host agent settings) the command runs through it, as cold.
    const command = plan.credentials.prelude ? plan.spec.command : plan.command;
    return await ctx.runtime.execSession(container, ['/bin/sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino', ...command], {
      tty,
      interactive: plan.spec.interactive ?? true,
      ...(plan.spec.workdir === undefined ? {} : { workdir: plan.spec.workdir }),
      // podman sets HOSTNAME (the container's host name) for a container's main process only.
      ...(plan.spec.env && 'HOSTNAME' in plan.spec.env ? {} : { env: { HOSTNAME: plan.spec.hostname ?? container.slice(0, 12) } }),
      ownProcessGroup: !tty,
    });
  } finally {
    release();
  }
}
