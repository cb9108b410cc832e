import { log } from '../common/logger.js';
import type { ContainerSummary } from '../runtime/container-runtime.js';
import { planReconcile, type Orphan, type SessionFix } from '../session/reconcile.js';
import { isActive, type SessionRecord } from '../session/session-record.js';
import { sessionEnvOf, type SessionContext } from './session-context.js';
import { LABEL_CACHES_FINALIZE, listLabel } from '../cache/cache-labels.js';
import { finalizeCaches } from './prepare-caches.js';
import { pidAlive } from '../common/pid-alive.js';


/** Outcome of bringing session files in line with podman. */
export interface Reconciled {
  sessions: SessionRecord[];
  warnings: string[];
  fixes: SessionFix[];
  orphans: Orphan[];
  containers: ContainerSummary[];
  /** Sessions whose leftover session env file (or SSH relay socket) was removed. */
  secretsRemoved: string[];
}

/**
 * Reads every session, asks podman once for all containers, and corrects records that no longer
 * match (a "running" session whose container exited or vanished). Finished detached containers
 * are removed once their exit code is recorded; one that exited 0 first marks the dependency
 * caches it was filling complete (label io.mino.caches.finalize). One podman call when nothing needs fixing.
 *
 * With `activeOnly`, podman is not asked at all when no session is starting or running: only
 * active records can be stale, and orphan containers (no session file) are gc's business.
 */
export async function reconcileSessions(ctx: SessionContext, options: { activeOnly?: boolean } = {}): Promise<Reconciled> {
  const { sessions, warnings } = ctx.store.list();
  if (options.activeOnly && !sessions.some(isActive)) {
    return { sessions, warnings, fixes: [], orphans: [], containers: [], secretsRemoved: reapSessionSecrets(ctx, sessions, warnings) };
  }
  const containers = await ctx.runtime.listContainers({});
  const plan = planReconcile(sessions, containers, ctx.stateKey, pidAlive);
  const updated = new Map<string, SessionRecord>();
  for (const fix of plan.fixes) {
    try {
      updated.set(fix.name, ctx.store.update(fix.name, { status: fix.status, exit_code: fix.exitCode }));
      ctx.audit.record('session.reconciled', { name: fix.name, from: fix.from, to: fix.status, exit_code: fix.exitCode, reason: fix.reason });
      // A detached session whose command exited 0 completes the caches it was filling.
      const finished = containers.find((c) => c.id === fix.removeContainer);
      if (finished) finalizeCaches(ctx.stateDir, listLabel(finished.labels, LABEL_CACHES_FINALIZE), fix.exitCode);
      if (fix.removeContainer) await ctx.runtime.remove(fix.removeContainer);
    } catch (err) {
      warnings.push(`Could not reconcile session '${fix.name}': ${(err as Error).message}`);
    }
  }
  log.debug('reconciled', { fixes: plan.fixes.length, orphans: plan.orphans.length });
  const after = sessions.map((s) => updated.get(s.name) ?? s);
  return {
    sessions: after,
    warnings,
    fixes: plan.fixes,
    orphans: plan.orphans,
    containers,
    secretsRemoved: reapSessionSecrets(ctx, after, warnings),
  };
}

/**
 * Removes the session env files (and SSH relay sockets) of sessions that are not active: those
 * of a `mino run` that was killed before it could remove them. A file system listing, no podman.
 */
export function reapSessionSecrets(ctx: SessionContext, sessions: readonly SessionRecord[], warnings: string[]): string[] {
  const active = new Set(sessions.filter(isActive).map((s) => s.name));
  try {
    const removed = sessionEnvOf(ctx).reap((name) => active.has(name));
    if (removed.length > 0) log.info('removed leftover session secrets', { sessions: removed });
    return removed;
  } catch (err) {
    warnings.push(`Could not remove leftover session secrets: ${(err as Error).message}`);
    return [];
  }
}
