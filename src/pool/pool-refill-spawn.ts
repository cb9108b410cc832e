import { isStale, readHolder } from '../common/file-lock.js';
import { spawnDetached } from '../common/spawn-detached.js';
import { log } from '../common/logger.js';
import type { PoolSettings } from './pool-settings.js';
import { selfArgv } from '../common/self-argv.js';
import { queueUsed, refillMarkerPath } from './pool-index.js';

/** Hidden subcommand of the background refill (see refill-pool.ts). */
export const REFILL_COMMAND = '__pool-refill';

/** A refill marker older than this counts as stale even when its process still exists. */
export const REFILL_STALE_MS = 30 * 60_000;

/**
 * Starts the background refill of pool `key` as a detached `mino __pool-refill` process (not a
 * daemon: it tops the pool up and exits), first removing `usedContainer` (a claimed container is
 * never returned to the pool). The settings travel as arguments, so the child does not depend on
 * which configuration file this run read.
 */
export function spawnRefill(key: string, settings: PoolSettings, usedContainer?: string): void {
  const argv = [
    ...selfArgv(),
    REFILL_COMMAND,
    key,
    '--max-warm',
    String(settings.maxWarm),
    '--ttl',
    String(settings.warmTtlSeconds),
    ...(usedContainer === undefined ? [] : ['--remove', usedContainer]),
  ];
  const pid = spawnDetached(argv);
  log.debug('pool refill started', { key, pid, usedContainer });
}

/** Whether a refill of pool `key` is under way: its marker names a process that still runs. */
export function refillUnderWay(stateDir: string, key: string): boolean {
  try {
    const holder = readHolder(refillMarkerPath(stateDir, key));
    return holder !== undefined && !isStale(holder, REFILL_STALE_MS);
  } catch {
    return false;
  }
}

/**
 * What a run asks of the pool when it is done with it: `usedContainer` queued for removal, and a
 * background refill started unless one is under way for the key, which then takes the queue too
 * (it looks at it again after it let go of its marker, and this looks at the marker after it
 * queued: one of the two always sees the other). A burst of runs starts one refill, not one each.
 */
export function requestRefill(
  stateDir: string,
  key: string,
  settings: PoolSettings,
  usedContainer?: string,
  spawn: typeof spawnRefill = spawnRefill,
): void {
  if (usedContainer !== undefined) {
    try {
      queueUsed(stateDir, key, usedContainer);
    } catch (err) {
      // The refill removes it anyway, as before (the container also ends itself after its time).
      log.warn('could not queue the used container for removal', { error: String(err) });
      spawn(key, settings, usedContainer);
      return;
    }
  }
  if (refillUnderWay(stateDir, key)) {
    log.debug('pool refill under way; it takes this run too', { key });
    return;
  }
  spawn(key, settings);
}
