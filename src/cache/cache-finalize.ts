import { errorMessage } from '../common/errors.js';
import { log } from '../common/logger.js';
import { CacheStore } from './cache-store.js';

/**
 * Marks the caches a session filled as complete when its command exited 0; anything else leaves
 * them `building`. Failures are logged, never thrown: the session result matters more.
 */
export function finalizeCaches(
  stateDir: string,
  volumes: readonly string[],
  exitCode: number | null,
  now = new Date(),
): void {
  if (volumes.length === 0 || exitCode !== 0) return;
  const store = new CacheStore(stateDir);
  for (const v of volumes) {
    try {
      store.finalize(v, exitCode, now);
    } catch (err) {
      log.warn('could not mark cache complete', { volume: v, error: errorMessage(err) });
    }
  }
}
