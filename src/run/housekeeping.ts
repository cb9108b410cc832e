import { join } from 'node:path';
import { stampDue } from '../common/interval-stamp.js';
import { log } from '../common/logger.js';
import { HOUSEKEEPING_INTERVAL_MS } from '../config/defaults.js';
import { hostProbe } from '../lifecycle/sweep-sessions.js';
import { loadSweepSettings } from '../lifecycle/session-settings.js';
import { planSweep, needsEngine } from '../session/timeouts.js';
import { SessionStore } from '../session/session-store.js';
import { enforceCacheBudget } from '../resources/enforce-cache-budget.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The cheap housekeeping of `mino run`, done alongside the container start so it never delays the
 * command: reconciling session records with podman (at most every HOUSEKEEPING_INTERVAL_MS, one
 * stat otherwise) and keeping dependency caches within their disk budget. Resolves to the
 * messages for the user; never rejects.
 */
export async function runHousekeeping(
  ctx: SessionContext,
  cache: { enabled: boolean; maxTotalGb: number },
): Promise<string[]> {
  if (stampDue(join(ctx.stateDir, 'last-reconcile'), HOUSEKEEPING_INTERVAL_MS)) {
    await reconcileSessions(ctx).catch((err: unknown) =>
      log.warn('background reconcile failed', { error: String(err) }),
    );
  }
  return cache.enabled ? enforceCacheBudget(ctx, cache.maxTotalGb) : [];
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
