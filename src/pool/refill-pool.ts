import { existsSync } from 'node:fs';
import { log } from '../common/logger.js';
import { readPool } from './pool-index.js';
import { poolKeyOf } from './pool-key.js';
import type { SessionContext } from '../context/session-context.js';
import { currentImage, fillPool, withPoolLock } from './start-warm.js';

/** Options of the background refill. */
export interface RefillOptions {
  maxWarm: number;
  ttlSeconds: number;
  /** A container a run used: removed first (never returned to the pool). */
  remove?: string;
}

/**
 * The background refill (`mino __pool-refill KEY`, started detached by a run): removes the
 * container the run used, then tops pool KEY up to its size under the pool lock, with the image
 * ID the image has now. Never throws: it has nobody to report to but the log.
 */
export async function refillPool(ctx: SessionContext, key: string, options: RefillOptions): Promise<void> {
  try {
    if (options.remove !== undefined) await ctx.runtime.remove(options.remove);
    if (!existsSync(ctx.stateDir)) return;
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
  } catch (err) {
    log.warn('pool refill failed', { key, error: String(err) });
  }
}
