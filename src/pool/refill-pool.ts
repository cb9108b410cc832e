import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isStale, readHolder, releaseLock, removeIfHeldBy, tryAcquire } from '../common/file-lock.js';
import { log } from '../common/logger.js';
import { forgetUsed, queueUsed, readPool, refillMarkerPath, usedContainers } from './pool-index.js';
import { poolKeyOf } from './pool-key.js';
import { REFILL_STALE_MS } from './pool-refill-spawn.js';
import type { SessionContext } from '../context/session-context.js';
import { currentImage, fillPool, withPoolLock } from './start-warm.js';

/** Options of the background refill. */
export interface RefillOptions {
  maxWarm: number;
  ttlSeconds: number;
  /** A container a run used: removed first (never returned to the pool). */
  remove?: string;
  /** How long no run may have queued a used container before the refill starts its podman work (ms). */
  quietMs?: number;
  /** The longest wait for that quiet (ms): a steady stream of runs is refilled anyway. */
  maxWaitMs?: number;
}

/** Default {@link RefillOptions.quietMs}: a burst of runs finishes before podman competes for the CPU. */
const QUIET_MS = 400;
/** Default {@link RefillOptions.maxWaitMs}. */
const MAX_WAIT_MS = 5000;
const POLL_MS = 100;

/**
 * The background refill (`mino __pool-refill KEY`, started detached by a run, see
 * pool-refill-spawn.ts): one per pool at a time, marked by `<key>/refill.lock`. It waits until
 * runs have stopped handing in used containers for a moment (a burst of runs keeps the CPU to
 * itself), removes every used container queued, then tops pool KEY up to its size under the pool
 * lock, with the image ID the image has now; and again while runs queued more meanwhile. Never
 * throws: it has nobody to report to but the log.
 */
export async function refillPool(ctx: SessionContext, key: string, options: RefillOptions): Promise<void> {
  try {
    if (readPool(ctx.stateDir, key) === undefined) {
      // Drained meanwhile (its queue went with it): only the container this run handed in.
      if (options.remove !== undefined) await ctx.runtime.remove(options.remove);
      return;
    }
    if (options.remove !== undefined) queueUsed(ctx.stateDir, key, options.remove);
    for (;;) {
      if (!poolExists(ctx.stateDir, key)) return;
      const marker = refillMarkerPath(ctx.stateDir, key);
      const nonce = randomUUID();
      // Another refill of this pool is under way: it takes what was queued.
      if (!takeMarker(marker, nonce)) return;
      try {
        await quietAfterRuns(ctx.stateDir, key, options);
        // Drained meanwhile (`mino pool drain` removed its containers): nothing to do, nothing to write.
        if (!poolExists(ctx.stateDir, key)) return;
        await removeUsed(ctx, key);
        if (!poolExists(ctx.stateDir, key)) return;
        await topUp(ctx, key, options);
      } finally {
        releaseLock(marker, nonce);
      }
      // Queued while the marker was held, by a run that then left the work to this refill.
      if (usedContainers(ctx.stateDir, key).ids.length === 0) return;
    }
  } catch (err) {
    log.warn('pool refill failed', { key, error: String(err) });
  }
}

function poolExists(stateDir: string, key: string): boolean {
  return existsSync(stateDir) && readPool(stateDir, key) !== undefined;
}

/** Takes the refill marker for this process; false when a live refill holds it. */
function takeMarker(marker: string, nonce: string): boolean {
  if (tryAcquire(marker, nonce)) return true;
  const holder = readHolder(marker);
  if (holder !== undefined && !isStale(holder, REFILL_STALE_MS)) return false;
  if (holder !== undefined) removeIfHeldBy(marker, holder.id);
  return tryAcquire(marker, nonce);
}

/** Waits until no used container was queued for `quietMs` (at most `maxWaitMs`). */
async function quietAfterRuns(stateDir: string, key: string, options: RefillOptions): Promise<void> {
  const quietMs = options.quietMs ?? QUIET_MS;
  const deadline = Date.now() + (options.maxWaitMs ?? MAX_WAIT_MS);
  while (Date.now() < deadline) {
    const { latestMs } = usedContainers(stateDir, key);
    const wait = latestMs + quietMs - Date.now();
    if (wait <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, POLL_MS)));
  }
}

/** Removes the used containers queued for `key` (each at most once: its entry goes once it is removed). */
async function removeUsed(ctx: SessionContext, key: string): Promise<void> {
  for (const id of usedContainers(ctx.stateDir, key).ids) {
    // One that cannot be removed now is not tried forever: it ends itself (its agent's time is up).
    await ctx.runtime
      .remove(id)
      .catch((err: unknown) => log.warn('could not remove a used warm container', { id, error: String(err) }));
    forgetUsed(ctx.stateDir, key, id);
  }
}

/** Tops the pool up to its size under the pool lock. */
async function topUp(ctx: SessionContext, key: string, options: RefillOptions): Promise<void> {
  await withPoolLock(ctx.stateDir, async () => {
    const record = readPool(ctx.stateDir, key);
    if (!record || poolKeyOf(record.spec, record.egress) !== key) return;
    const image = await currentImage(ctx, record.image);
    if (!image) {
      log.warn('pool image is gone; not refilling', { key, image: record.image });
      return;
    }
    const result = await fillPool(ctx, record, image, options.maxWarm, options.ttlSeconds);
    log.info('pool refilled', { key, ...result });
  });
}
