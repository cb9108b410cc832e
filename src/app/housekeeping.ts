import { join } from 'node:path';
import { stampDue } from '../common/interval-stamp.js';
import { log } from '../common/logger.js';
import { HOUSEKEEPING_INTERVAL_MS } from '../config/defaults.js';
import { enforceCacheBudget } from './enforce-cache-budget.js';
import { reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from './session-context.js';

/**
 * The cheap housekeeping of `mino run`, done alongside the container start so it never delays the
 * command: reconciling session records with podman (at most every HOUSEKEEPING_INTERVAL_MS, one
 * stat otherwise) and keeping dependency caches within their disk budget. Resolves to the
 * messages for the user; never rejects.
 */
export async function runHousekeeping(ctx: SessionContext, cache: { enabled: boolean; maxTotalGb: number }): Promise<string[]> {
  if (stampDue(join(ctx.stateDir, 'last-reconcile'), HOUSEKEEPING_INTERVAL_MS)) {
    await reconcileSessions(ctx).catch((err: unknown) => log.warn('background reconcile failed', { error: String(err) }));
  }
  return cache.enabled ? enforceCacheBudget(ctx, cache.maxTotalGb) : [];
}
