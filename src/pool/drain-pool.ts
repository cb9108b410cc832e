import { sweepAgentDirs } from './warm-agent-dir.js';
import { log } from '../common/logger.js';
import { isWarmContainer, LABEL_POOL, LABEL_STATE } from '../session/session-labels.js';
import { listPoolKeys, readPool, removePool } from './pool-index.js';
import { sweepWarmCopies } from '../workspace/warm-copy.js';
import type { SessionContext } from '../context/session-context.js';
import { withPoolLock } from './start-warm.js';

/** What `mino pool drain` removed. */
export interface DrainResult {
  /** Warm containers removed. */
  containers: number;
  /** Pools forgotten. */
  pools: number;
}

/**
 * Use case `mino pool drain`: removes every unclaimed warm container of this state directory (by
 * label, so containers the index lost track of go too) and forgets the pools, so runs start cold
 * and nothing refills. Containers runs have claimed are left to their sessions. Waits for a
 * refill under way.
 */
export async function drainPool(ctx: SessionContext): Promise<DrainResult> {
  return withPoolLock(ctx.stateDir, async () => {
    const keys = listPoolKeys(ctx.stateDir);
    const copies = keys.flatMap((key) => readPool(ctx.stateDir, key)?.branch?.dir ?? []);
    for (const key of keys) removePool(ctx.stateDir, key);
    const warm = (await ctx.runtime.listContainers({ [LABEL_POOL]: '', [LABEL_STATE]: ctx.stateKey })).filter(
      isWarmContainer,
    );
    await Promise.all(
      warm.map((c) =>
        ctx.runtime
          .remove(c.id)
          .catch((err: unknown) => log.warn('could not remove a warm container', { name: c.name, error: String(err) })),
      ),
    );
    sweepAgentDirs(ctx.stateDir, []);
    for (const dir of copies) sweepWarmCopies(dir, new Set());
    return { containers: warm.length, pools: keys.length };
  });
}
