import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { log } from '../common/logger.js';
import { selectForBudget } from '../cache/cache-budget.js';
import { targetName } from '../cache/cache-selection.js';
import { formatSize } from '../volume/parse-size.js';
import { gatherInventory, removeTargets } from './manage-caches.js';
import type { SessionContext } from '../context/session-context.js';
import { HOUSEKEEPING_INTERVAL_MS } from '../config/defaults.js';
import { stampDue } from '../common/interval-stamp.js';

/** How often `mino run` checks the disk budget (one stat otherwise). */
export const BUDGET_INTERVAL_MS = HOUSEKEEPING_INTERVAL_MS;

/**
 * The disk budget step of `mino run`: at most every 10 minutes, measures dependency caches and
 * composed images and, when they pass `cache.max_total_gb`, evicts what {@link selectForBudget}
 * picks. Returns one line per eviction for the user (empty when nothing happened). Never throws:
 * the session matters more than the budget.
 */
export async function enforceCacheBudget(
  ctx: SessionContext,
  limitGb: number,
  now = Date.now(),
  options: { due?: boolean } = {},
): Promise<string[]> {
  if (limitGb <= 0) return [];
  // `due`: the caller renewed the stamp already (run/housekeeping.ts).
  if (!options.due && !stampDue(join(ctx.stateDir, 'last-budget-check'), BUDGET_INTERVAL_MS, now)) return [];
  try {
    const inv = await gatherInventory(ctx, { images: true, limitGb });
    const picked = selectForBudget(inv, inv.limitBytes);
    if (picked.length === 0) return [];
    const results = await removeTargets(ctx, picked);
    const lines = results
      .filter((r) => r.removed)
      .map((r) => {
        const t = r.decision.target;
        const size = 'ref' in t ? t.ownBytes : (t.sizeBytes ?? 0);
        return `Cache budget (${formatSize(inv.limitBytes)}) exceeded: removed ${targetName(t)} (${formatSize(size)}, ${r.decision.reason})`;
      });
    return lines;
  } catch (err) {
    log.warn('cache budget check failed', { error: errorMessage(err) });
    return [];
  }
}
