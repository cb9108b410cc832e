import type { Abandoned, Orphan, SessionFix } from '../session/reconcile.js';
import type { ReapedProxy } from './network-control.js';
import type { SweepSettings } from '../session/timeouts.js';
import { minoPaths } from '../common/xdg-paths.js';
import { removeDeadBuildDirs, type DeadBuildDirs } from '../image/build-dir.js';
import { reconcileSessions, stateErrorText } from './reconcile-sessions.js';
import { releaseAllStubs } from './protect-stubs.js';
import { checkEndedSessionsRepos } from './session-repo-guard.js';
import { sweepSessions, type SweepOutcome } from './sweep-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/** What `mino gc` found and did. */
export interface GcResult {
  /** Session records corrected and saved (stale "running" ones). */
  fixes: SessionFix[];
  /** Sessions whose correction could not be saved (full or read-only state directory); left for the next gc. */
  unsaved: string[];
  /** Containers with no live owner and no active session: removed unless dry run. */
  removed: Orphan[];
  /** Attached sessions whose mino died while the command ran on: stopped unless dry run. */
  abandoned: Abandoned[];
  /** Containers left alone, with the reason. */
  kept: { orphan: Orphan; reason: string }[];
  /** Egress proxies stopped because their session is over. */
  proxies: ReapedProxy[];
  /** Sessions whose leftover session env file was removed. */
  secretsRemoved: string[];
  /** The timeout sweep: sessions expired (idle, detached, suspended) and ended ones forgotten. */
  sweep: SweepOutcome;
  warnings: string[];
}

/**
 * Reconciles sessions (which also stops egress proxies whose session is over), then, for this state directory:
 * - stops the containers of attached sessions whose `mino run` died (nobody is attached to them
 *   and nothing would record their end) and records those sessions as stopped;
 * - removes mino containers that no active session accounts for and whose owner process is gone.
 * Never touches a container whose session file exists but cannot be read (whose it is, is
 * unknown), nor one whose owner lives, nor a warm pool container (label io.mino.pool);
 * - runs the timeout sweep (sweep-sessions.ts) with `settings`;
 * - removes the stubs of protected paths no session or warm container uses any more.
 * With `dryRun`, only reports.
 */
export async function gcSessions(ctx: SessionContext, dryRun: boolean, settings: SweepSettings): Promise<GcResult> {
  const result = await reconcileSessions(ctx);
  const unreadable = new Set(result.unreadable);
  const removed: Orphan[] = [];
  const kept: GcResult['kept'] = [];
  for (const orphan of result.orphans) {
    if (orphan.sessionName !== undefined && unreadable.has(orphan.sessionName))
      kept.push({ orphan, reason: 'its session file cannot be read' });
    else if (!orphan.ownerDead) kept.push({ orphan, reason: 'its owner process is still running' });
    else removed.push(orphan);
  }
  const warnings = [...result.warnings];
  const unsaved = [...result.unsaved];
  let abandoned = result.abandoned;
  if (!dryRun) {
    for (const orphan of removed) await ctx.runtime.remove(orphan.container.id);
    abandoned = [];
    for (const a of result.abandoned) {
      // The record first: a state directory that cannot take it keeps the container for next time.
      try {
        ctx.store.update(a.name, { status: 'stopped', exit_code: null });
      } catch (err) {
        unsaved.push(a.name);
        warnings.push(
          `Could not record the end of session '${a.name}' (running -> stopped): ${stateErrorText(ctx, err)}`,
        );
        continue;
      }
      ctx.audit.record('session.reconciled', {
        name: a.name,
        to: 'stopped',
        exit_code: null,
        reason: 'its mino process died; stopped by gc',
      });
      await ctx.runtime.remove(a.container.id);
      abandoned.push(a);
    }
  }
  const sweep = await sweepSessions(ctx, settings, { dryRun });
  // Stubs of protected paths whose sessions are gone (a killed mino left them).
  if (!dryRun) await releaseAllStubs(ctx.runtime, ctx.stateDir);
  // Git repositories made by sessions that ended without mino there (a killed run, a detached session).
  const repoWarnings = dryRun ? [] : checkEndedSessionsRepos(ctx.stateDir, ctx.store);
  return {
    fixes: result.fixes,
    unsaved,
    removed,
    abandoned,
    kept,
    proxies: result.proxies,
    secretsRemoved: result.secretsRemoved,
    sweep,
    warnings: [...warnings, ...sweep.warnings, ...repoWarnings],
  };
}

/**
 * `mino gc`'s part outside sessions: the build directories of image builds whose mino was killed
 * outright (image/build-dir.ts); with `dryRun`, only reports them.
 */
export function gcBuildDirs(dataDir: string = minoPaths().dataDir, dryRun = false): DeadBuildDirs {
  return removeDeadBuildDirs(dataDir, dryRun);
}
