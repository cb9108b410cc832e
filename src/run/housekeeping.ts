import { join } from 'node:path';
import { stampDue } from '../common/interval-stamp.js';
import { log } from '../common/logger.js';
import { HOUSEKEEPING_INTERVAL_MS } from '../config/defaults.js';
import { hostProbe } from '../lifecycle/sweep-sessions.js';
import { loadSweepSettings } from '../lifecycle/session-settings.js';
import { planSweep, needsEngine } from '../session/timeouts.js';
import { SessionStore } from '../session/session-store.js';
import { BUDGET_INTERVAL_MS, enforceCacheBudget } from '../resources/enforce-cache-budget.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/** What is due: reconciling session records, and the disk budget (its limit in GB). */
interface HousekeepingDue {
  reconcile: boolean;
  budgetGb?: number;
}

/**
 * The housekeeping of `mino run`, decided with a stat per chore (each at most every
 * HOUSEKEEPING_INTERVAL_MS, its stamp renewed here): reconciling session records with podman and
 * keeping dependency caches within their disk budget. Undefined when nothing is due.
 */
function housekeepingDue(
  ctx: SessionContext,
  cache: { enabled: boolean; maxTotalGb: number },
): HousekeepingDue | undefined {
  const reconcile = stampDue(join(ctx.stateDir, 'last-reconcile'), HOUSEKEEPING_INTERVAL_MS);
  const budget =
    cache.enabled && cache.maxTotalGb > 0 && stampDue(join(ctx.stateDir, 'last-budget-check'), BUDGET_INTERVAL_MS);
  if (!reconcile && !budget) return undefined;
  return { reconcile, ...(budget ? { budgetGb: cache.maxTotalGb } : {}) };
}

/**
 * Does what is due alongside the run (it starts at once and the run awaits it only at its end);
 * resolves to the lines to print (cache evictions). In the run's own process, not a detached one:
 * a reconcile of its own racing the user's next `mino list` or `mino stop` made both act on one
 * finished container.
 */
export function housekeepAlongside(
  ctx: SessionContext,
  cache: { enabled: boolean; maxTotalGb: number },
): Promise<string[]> {
  const due = housekeepingDue(ctx, cache);
  return due ? housekeepNow(ctx, due) : Promise.resolve([]);
}

/** Does the chores of `due` now; resolves to the evictions made; never rejects. */
async function housekeepNow(ctx: SessionContext, due: HousekeepingDue): Promise<string[]> {
  if (due.reconcile) {
    await reconcileSessions(ctx).catch((err: unknown) =>
      log.warn('background reconcile failed', { error: String(err) }),
    );
  }
  return due.budgetGb === undefined ? [] : enforceCacheBudget(ctx, due.budgetGb, Date.now(), { due: true });
}

/**
 * Whether the timeout sweep has work in state directory `stateDir`, decided from the session
 * files and the global configuration alone (no engine): `none`, or `work` (something expired,
 * may be idle, or is to be forgotten or stamped). An invalid configuration means `none`: the
 * command that reads it reports it.
 */
export function sweepPlanFor(
  stateDir: string,
  env: NodeJS.ProcessEnv = process.env,
  now = Date.now(),
): 'none' | 'work' {
  const { sessions } = new SessionStore(stateDir).list();
  if (sessions.length === 0) return 'none';
  let settings;
  try {
    settings = loadSweepSettings(undefined, env);
  } catch {
    return 'none';
  }
  const plan = planSweep(sessions, settings, now, hostProbe);
  return needsEngine(plan) || plan.forget.length > 0 || plan.stampDetached.length > 0 ? 'work' : 'none';
}
