import { errorMessage, MinoError } from '../common/errors.js';
import { collectWork } from '../workspace/collect-work.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { statusForExit } from '../session/reconcile.js';
import { isActive, type SessionRecord } from '../session/session-record.js';
import { reconcileSessions } from './reconcile-sessions.js';
import { releaseStubs } from './protect-stubs.js';
import { removeEngineLeftovers } from './engine-secret.js';
import { hasEgress } from './network-control.js';
import { log } from '../common/logger.js';
import { SessionOutputStore } from '../session/session-output.js';
import { dataDirOf, sessionEnvOf, type SessionContext } from '../context/session-context.js';

/** Outcome of `mino stop`. */
export interface StopResult {
  record: SessionRecord;
  /** False when the session had already ended (nothing was stopped). */
  stopped: boolean;
  /** A branch session: where its work went (workspace/collect-work.ts). */
  home?: string[];
}

/**
 * Stops a session's container (`podman stop`, or `kill` with force), records its exit code and
 * then removes the container. A session that already ended is reported as such. The record is
 * written before the container goes: when it cannot be (a full or read-only state directory), the
 * error is thrown and the stopped container stays, so the next `mino stop`, `list` or `gc`
 * records its end and exit code (and saves its output) once the directory is writable again.
 * Last, the stand-ins of protected paths that nothing else of the project uses are removed.
 */
export async function stopSession(ctx: SessionContext, name: string, force: boolean): Promise<StopResult> {
  ctx.store.require(name);
  const { sessions } = await reconcileSessions(ctx);
  const record = sessions.find((s) => s.name === name);
  if (!record) throw new MinoError(`Session '${name}' disappeared while stopping it`);
  // Output saved when a finished detached container was removed lives until now.
  new SessionOutputStore(ctx.stateDir).remove(name);
  if (!isActive(record)) return { record, stopped: false, ...(await branchHome(ctx, record)) };
  const ref = record.container_id ?? `mino-${name}`;
  // A suspended (paused) session cannot take SIGTERM: thaw it first (a kill works either way).
  if (!force && typeof record.suspended_at === 'string') await ctx.runtime.unpause(ref).catch(() => undefined);
  if (force) await ctx.runtime.kill(ref);
  else await ctx.runtime.stop(ref, 10);
  // The exit code survives for detached containers (no --rm); attached ones are gone already.
  const exitCode = (await ctx.runtime.containerExitCode(ref).catch(() => undefined)) ?? null;
  const updated = ctx.store.update(name, {
    status: statusForExit(exitCode),
    exit_code: exitCode,
    ...(record.suspended_at ? { suspended_at: null } : {}),
  });
  ctx.audit.record('session.stopped', { name, exit_code: exitCode, forced: force });
  await ctx.runtime.remove(ref);
  // Normally gone since the container started; a killed `mino run` may have left it (on another
  // engine: a podman secret there).
  sessionEnvOf(ctx).remove(name);
  if (record.engine !== undefined) {
    const kept = await removeEngineLeftovers(ctx.runtime, ctx, record.engine, name, hasEgress(record));
    if (kept) log.warn(kept);
  }
  // The stand-ins of its protected paths, unless another session of the project still uses them.
  await releaseStubs(ctx.runtime, ctx.stateDir, record.project_dir);
  return { record: updated, stopped: true, ...(await branchHome(ctx, record)) };
}

/** A branch session's work comes home once it stopped (its working copy keeps it if that fails). */
async function branchHome(ctx: SessionContext, record: SessionRecord): Promise<Pick<StopResult, 'home'>> {
  if (record.branch === undefined) return {};
  try {
    return { home: await collectWork(record.project_dir, gitExcludePath(dataDirOf(ctx))) };
  } catch (err) {
    return { home: [`Warning: ${errorMessage(err)}`] };
  }
}
