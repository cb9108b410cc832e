import type { Orphan, SessionFix } from '../session/reconcile.js';
import type { ReapedProxy } from './network-control.js';
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
  /** Egress proxies stopped because their session is over. */
  proxies: ReapedProxy[];
  warnings: string[];
}

/**
 * Reconciles sessions (which also stops egress proxies whose session is over), then removes this
 * state directory's mino containers that no active session accounts for and whose owner process
 * is gone. With `dryRun`, only reports containers.
 */
export async function gcSessions(ctx: SessionContext, dryRun: boolean): Promise<GcResult> {
  const result = await reconcileSessions(ctx);
  const removed = result.orphans.filter((o) => o.ownerDead);
  const kept = result.orphans.filter((o) => !o.ownerDead);
  if (!dryRun) {
    for (const orphan of removed) await ctx.runtime.remove(orphan.container.id);
  }
  return { fixes: result.fixes, removed, kept, proxies: result.proxies, warnings: result.warnings };
}
