import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { log } from '../common/logger.js';
import { selectForBudget } from '../cache/cache-budget.js';
import { targetName } from '../cache/cache-selection.js';
import { formatSize } from '../volume/parse-size.js';
import { gatherInventory, removeTargets } from './manage-caches.js';
import type { SessionContext } from './session-context.js';

/** How often `mino run` checks the disk budget (one stat otherwise). */
export const BUDGET_INTERVAL_MS = 10 * 60 * 1000;

/** True (and the stamp renewed) when the last budget check is older than the interval. */
function due(stateDir: string, now: number): boolean {
  const stamp = join(stateDir, 'last-budget-check');
  try {
    if (now - statSync(stamp).mtimeMs < BUDGET_INTERVAL_MS) return false;
  } catch {
    // never checked
  }
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(stamp, '');
    return true;
  } catch {
    return false;
  }
}

/**
 * The disk budget step of `mino run`: at most every 10 minutes, measures dependency caches and
 * composed images and, when they pass `cache.max_total_gb`, evicts what {@link selectForBudget}
 * picks. Returns one line per eviction for the user (empty when nothing happened). Never throws:
 * the session matters more than the budget.
 */
export async function enforceCacheBudget(ctx: SessionContext, limitGb: number, now = Date.now()): Promise<string[]> {
  if (limitGb <= 0 || !due(ctx.stateDir, now)) return [];
  try {
    const inv = await gatherInventory(ctx, { images: true, limitGb });
    const picked = selectForBudget(inv, inv.limitBytes);
    if (picked.length === 0) return [];
    const results = await removeTargets(ctx, picked);
    const lines = results.filter((r) => r.removed).map((r) => {
      const t = r.decision.target;
      const size = 'ref' in t ? t.ownBytes : t.sizeBytes ?? 0;
      return `Cache budget (${formatSize(inv.limitBytes)}) exceeded: removed ${targetName(t)} (${formatSize(size)}, ${r.decision.reason})`;
    });
    return lines;
  } catch (err) {
    log.warn('cache budget check failed', { error: errorMessage(err) });
    return [];
  }
}
