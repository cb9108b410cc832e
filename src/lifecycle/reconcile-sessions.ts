import { errorMessage } from '../common/errors.js';
import { log } from '../common/logger.js';
import { storageError } from '../common/storage-error.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/container-runtime.js';
import { planReconcile, type Abandoned, type Orphan, type SessionFix } from '../session/reconcile.js';
import { isActive, type SessionRecord } from '../session/session-record.js';
import { dataDirOf, sessionEnvOf, type SessionContext } from '../context/session-context.js';
import { collectWork } from '../workspace/collect-work.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { LABEL_CACHES_FINALIZE, listLabel } from '../cache/cache-labels.js';
import { finalizeCaches } from '../cache/cache-finalize.js';
import { pidAlive } from '../common/pid-alive.js';
import { SessionOutputStore } from '../session/session-output.js';
import { hasEgress, reapEgressProxies, type ReapedProxy } from './network-control.js';
import { removeEngineLeftovers } from './engine-secret.js';

/** Outcome of bringing session files in line with podman. */
export interface Reconciled {
  sessions: SessionRecord[];
  warnings: string[];
  /** Corrections made and saved (a correction that could not be saved is only in `unsaved`). */
  fixes: SessionFix[];
  /** Sessions whose correction could not be saved (full or read-only state directory): retried next time. */
  unsaved: string[];
  orphans: Orphan[];
  /** Attached sessions whose mino died while their container runs on (gc stops them). */
  abandoned: Abandoned[];
  /** Session files that could not be read (their containers must be left alone). */
  unreadable: string[];
  containers: ContainerSummary[];
  /** Egress proxies stopped because their session is over. */
  proxies: ReapedProxy[];
  /** Sessions whose leftover session env file (or SSH relay socket) was removed. */
  secretsRemoved: string[];
  /** Engines that could not be asked (their sessions are left as recorded, never ended). */
  unreachable: string[];
}

/**
 * Reads every session, asks podman once for all containers, and corrects records that no longer
 * match (a "running" session whose container exited or vanished). Finished detached containers
 * are removed once their exit code is recorded; one that exited 0 first marks the dependency
 * caches it was filling complete (label io.mino.caches.finalize). One podman call when nothing needs fixing.
 *
 * With `activeOnly`, podman is not asked at all when no session is starting or running: only
 * active records can be stale, and orphan containers (no session file) are gc's business.
 * Egress proxies whose session is over are stopped either way (one directory listing).
 */
export async function reconcileSessions(
  ctx: SessionContext,
  options: { activeOnly?: boolean } = {},
): Promise<Reconciled> {
  const { sessions, warnings, unreadable } = ctx.store.list();
  if (options.activeOnly && !sessions.some(isActive)) {
    return {
      sessions,
      warnings,
      fixes: [],
      unsaved: [],
      orphans: [],
      abandoned: [],
      unreadable,
      containers: [],
      proxies: reapEgressProxies(ctx, sessions),
      secretsRemoved: reapSessionSecrets(ctx, sessions, warnings),
      unreachable: [],
    };
  }
  const byEngine = new Map<string | undefined, SessionRecord[]>([[ctx.engine, []]]);
  for (const s of sessions) {
    if (!byEngine.has(s.engine) && !isActive(s)) continue; // ended: nothing to ask its engine
    const group = byEngine.get(s.engine) ?? [];
    group.push(s);
    byEngine.set(s.engine, group);
  }
  const containers: ContainerSummary[] = [];
  const unreachable: string[] = [];
  const updated = new Map<string, SessionRecord>();
  const unsaved: string[] = [];
  const fixes: SessionFix[] = [];
  const orphans: Orphan[] = [];
  const abandoned: Abandoned[] = [];
  for (const [engine, group] of byEngine) {
    const runtime = runtimeFor(ctx, engine);
    if (!runtime) continue; // another engine's sessions, and no way to ask it: left as they are
    let listed: ContainerSummary[];
    try {
      listed = await runtime.listContainers({});
    } catch (err) {
      if (engine === ctx.engine) throw err;
      // Never "containers gone": an engine that does not answer keeps its sessions as recorded.
      unreachable.push(engine ?? 'local');
      warnings.push(
        `Engine ${engine ?? 'local'} did not answer (${firstLine(errorMessage(err))}); its sessions are shown as last recorded`,
      );
      continue;
    }
    containers.push(...listed);
    const plan = planReconcile(group, listed, ctx.stateKey, pidAlive);
    orphans.push(...plan.orphans);
    abandoned.push(...plan.abandoned);
    for (const fix of plan.fixes) {
      try {
        // Nothing is lost when the state directory is full or read-only: the output is saved and
        // the end recorded before the container goes; a failure leaves both the container and the
        // "running" record for the next reconciliation to retry.
        if (fix.removeContainer) await saveOutput({ ...ctx, runtime }, fix.name, fix.removeContainer);
        updated.set(fix.name, ctx.store.update(fix.name, { status: fix.status, exit_code: fix.exitCode }));
        fixes.push(fix);
        ctx.audit.record('session.reconciled', {
          name: fix.name,
          from: fix.from,
          to: fix.status,
          exit_code: fix.exitCode,
          reason: fix.reason,
        });
        // A detached session whose command exited 0 completes the caches it was filling.
        const finished = listed.find((c) => c.id === fix.removeContainer);
        if (finished) finalizeCaches(ctx.stateDir, listLabel(finished.labels, LABEL_CACHES_FINALIZE), fix.exitCode);
        if (fix.removeContainer) await runtime.remove(fix.removeContainer);
        // Its credentials on that engine, left by a killed `mino run`, go with it.
        const kept =
          engine === undefined
            ? undefined
            : await removeEngineLeftovers(runtime, ctx, engine, fix.name, hasEgress(updated.get(fix.name) ?? {}));
        if (kept) warnings.push(kept);
        await branchHome(ctx, updated.get(fix.name), warnings);
      } catch (err) {
        if (!updated.has(fix.name)) unsaved.push(fix.name);
        warnings.push(
          `Could not record the end of session '${fix.name}' (${fix.from} -> ${fix.status}): ${stateErrorText(ctx, err)}`,
        );
      }
    }
  }
  log.debug('reconciled', { fixes: fixes.length, orphans: orphans.length });
  const current = sessions.map((s) => updated.get(s.name) ?? s);
  return {
    sessions: current,
    warnings,
    fixes,
    unsaved,
    orphans,
    abandoned,
    unreadable,
    containers,
    proxies: reapEgressProxies(ctx, current),
    secretsRemoved: reapSessionSecrets(ctx, current, warnings),
    unreachable,
  };
}

/** A branch session found ended: its work comes home now (workspace/collect-work.ts); a failure is a warning. */
async function branchHome(ctx: SessionContext, record: SessionRecord | undefined, warnings: string[]): Promise<void> {
  if (record?.branch === undefined || isActive(record)) return;
  try {
    for (const line of await collectWork(record.project_dir, gitExcludePath(dataDirOf(ctx))))
      log.info(line, { session: record.name });
  } catch (err) {
    warnings.push(`The work of session '${record.name}' did not come home: ${errorMessage(err)}`);
  }
}

/** The runtime of `engine`'s sessions: ctx's own, or another engine's through `ctx.runtimeOf`. */
function runtimeFor(ctx: SessionContext, engine: string | undefined): ContainerRuntime | undefined {
  if (engine === ctx.engine) return ctx.runtime;
  try {
    return ctx.runtimeOf?.(engine);
  } catch {
    return undefined; // an engine no longer registered: its sessions stay as recorded
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * Saves a finished container's output for `mino logs` before the container is removed. A container
 * whose logs cannot be read (gone already) has nothing to save; an output that cannot be written
 * throws, so the container (and its output) stays.
 */
async function saveOutput(ctx: SessionContext, name: string, container: string): Promise<void> {
  let output;
  try {
    output = await ctx.runtime.logs(container, 0);
  } catch (err) {
    log.warn('could not read the output of a finished session', { name, error: String(err) });
    return;
  }
  new SessionOutputStore(ctx.stateDir).save(name, output);
}

/** The text of an error while writing session state: a file system refusal names the state directory and the cause. */
export function stateErrorText(ctx: Pick<SessionContext, 'stateDir'>, err: unknown): string {
  return storageError(err, [{ label: "mino's state directory", path: ctx.stateDir }])?.message ?? errorMessage(err);
}

/**
 * Removes the session env files (and SSH relay sockets) of sessions that are not active: those
 * of a `mino run` that was killed before it could remove them. A file system listing, no podman.
 */
function reapSessionSecrets(ctx: SessionContext, sessions: readonly SessionRecord[], warnings: string[]): string[] {
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
