import type { Orphan, SessionFix } from '../session/reconcile.js';
import { reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from './session-context.js';

/** What `mino gc` found and did. */
export interface GcResult {
  /** Session records corrected (stale "running" ones). */
  fixes: SessionFix[];
  /** Containers with no live owner and no active session: removed unless dry run. */
  removed: Orphan[];
  /** Orphans whose owner process still lives: reported, left alone. */
  kept: Orphan[];
  /** Sessions whose leftover session env file was removed. */
  secretsRemoved: string[];
  warnings: string[];
}

/**
 * Reconciles sessions, then removes this state directory's mino containers that no active
 * session accounts for and whose owner process is gone. With `dryRun`, only reports.
 */
export async function gcSessions(ctx: SessionContext, dryRun: boolean): Promise<GcResult> {
  const result = await reconcileSessions(ctx);
  const removed = result.orphans.filter((o) => o.ownerDead);
  const kept = result.orphans.filter((o) => !o.ownerDead);
  if (!dryRun) {
    for (const orphan of removed) await ctx.runtime.remove(orphan.container.id);
  }
  return { fixes: result.fixes, removed, kept, secretsRemoved: result.secretsRemoved, warnings: result.warnings };
}
