import { join } from 'node:path';
import { withFileLockAsync } from '../common/file-lock.js';
import { log } from '../common/logger.js';
import { pidAlive } from '../common/pid-alive.js';
import { identityAlive } from '../common/process-identity.js';
import { STOP_TIMEOUT_SECONDS } from '../config/defaults.js';
import type { ContainerSummary } from '../runtime/container-runtime.js';
import { bumpCounters } from '../session/sandbox-counters.js';
import type { ClientProbe } from '../session/session-state.js';
import { needsEngine, planSweep, type Expiry, type SweepSettings } from '../session/timeouts.js';
import { containerOf, statusForExit } from '../session/reconcile.js';
import { SessionOutputStore } from '../session/session-output.js';
import type { SessionRecord } from '../session/session-record.js';
import type { SessionContext } from '../context/session-context.js';
import { stateErrorText } from './reconcile-sessions.js';

/** Liveness of client processes on this host. */
export const hostProbe: ClientProbe = { pidAlive, identityAlive };

/** A session the sweep ended (or, in a dry run, would end). */
interface ExpiredSession extends Expiry {
  /** The command's exit code after the stop (null: unknown, or a dry run). */
  exitCode: number | null;
}

/** What a sweep found and did. */
export interface SweepOutcome {
  expired: ExpiredSession[];
  /** Sessions past a file-only deadline that the engine showed to be alive, with the reason. */
  kept: { name: string; reason: string }[];
  /** Ended sessions whose files were removed (session.auto_cleanup_hours). */
  forgotten: string[];
  warnings: string[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The timeout sweep: decides from the session files which sessions
 * have passed a timeout (src/session/timeouts.ts), confirms with the engine only those (one
 * `podman ps`, plus the last output time of each idle candidate), and stops and removes each
 * expired session's container, recording `session.expired` with the reason and counting it in
 * `timeout_destroys`. Ended sessions older than `autoCleanupHours` are forgotten. With `dryRun`,
 * only reports. Sweeps of one state directory take turns (a lock file).
 */
export async function sweepSessions(
  ctx: SessionContext,
  settings: SweepSettings,
  options: { dryRun?: boolean; now?: number } = {},
): Promise<SweepOutcome> {
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun ?? false;
  const outcome: SweepOutcome = { expired: [], kept: [], forgotten: [], warnings: [] };
  const { sessions, warnings } = ctx.store.list();
  outcome.warnings.push(...warnings);
  const plan = planSweep(sessions, settings, now, hostProbe);
  const output = new SessionOutputStore(ctx.stateDir);
  for (const f of plan.forget) {
    if (!dryRun && !ctx.store.remove(f.name, { ifId: f.id })) continue;
    if (!dryRun) output.remove(f.name);
    outcome.forgotten.push(f.name);
  }
  if (!dryRun) {
    for (const s of plan.stampDetached) {
      try {
        ctx.store.update(s.name, { detached_at: iso(now) }, { ifId: s.id });
      } catch {
        // Gone meanwhile: nothing to time.
      }
    }
  }
  if (!needsEngine(plan)) return outcome;
  const work = async (): Promise<void> => {
    const containers = await ctx.runtime.listContainers({});
    const byName = new Map(sessions.map((s) => [s.name, s]));
    const due: { expiry: Expiry; container: ContainerSummary }[] = [];
    for (const candidate of plan.idle) {
      const record = byName.get(candidate.name);
      const c = record && containerOf(record, containers, ctx.stateKey);
      if (!record || !c || c.state !== 'running') continue; // ended: reconciliation records it
      const last = await ctx.runtime.lastOutputAt(c.id);
      if (last !== undefined && last.getTime() >= candidate.idleSinceMs) {
        if (!dryRun) update(ctx, record, { last_output_at: last.toISOString() });
        outcome.kept.push({ name: candidate.name, reason: `printed output at ${last.toISOString()}` });
        continue;
      }
      const sinceMs = Math.max(candidate.sinceMs, last?.getTime() ?? 0);
      due.push({
        expiry: { name: candidate.name, id: candidate.id, reason: 'idle', timeoutSecs: candidate.timeoutSecs, sinceMs },
        container: c,
      });
    }
    for (const expiry of plan.expired) {
      const record = byName.get(expiry.name);
      const c = record && containerOf(record, containers, ctx.stateKey);
      if (!record || !c || (c.state !== 'running' && c.state !== 'paused')) continue;
      if (expiry.reason === 'suspended' && c.state !== 'paused') {
        // Unpaused behind mino's back: it is not suspended any more.
        if (!dryRun) update(ctx, record, { suspended_at: null, detached_at: iso(now) });
        outcome.kept.push({ name: expiry.name, reason: 'it is no longer paused' });
        continue;
      }
      due.push({ expiry, container: c });
    }
    for (const { expiry, container } of due) {
      if (dryRun) {
        outcome.expired.push({ ...expiry, exitCode: null });
        continue;
      }
      try {
        outcome.expired.push({ ...expiry, exitCode: await terminate(ctx, expiry, container) });
      } catch (err) {
        outcome.warnings.push(`Could not stop expired session '${expiry.name}': ${stateErrorText(ctx, err)}`);
      }
    }
  };
  if (dryRun) await work();
  else
    await withFileLockAsync(join(ctx.stateDir, 'sweep.lock'), work, {
      what: 'the session timeout sweep',
      timeoutMs: 120_000,
    });
  return outcome;
}

function update(ctx: SessionContext, record: SessionRecord, patch: Partial<SessionRecord>): void {
  try {
    ctx.store.update(record.name, patch, { ifId: record.id });
  } catch (err) {
    log.debug('session changed during the sweep', { name: record.name, error: String(err) });
  }
}

/** Stops and removes an expired session's container and records it; returns the exit code. */
async function terminate(ctx: SessionContext, expiry: Expiry, container: ContainerSummary): Promise<number | null> {
  // Still the same running session? (`mino stop` or another sweep may have ended it.)
  const current = ctx.store.get(expiry.name);
  if (!current || current.id !== expiry.id || current.status !== 'running') throw new Error('it ended meanwhile');
  if (container.state === 'paused') {
    // A frozen process cannot take SIGTERM: thaw it first (kill works on a paused container).
    await ctx.runtime.unpause(container.id).catch(() => ctx.runtime.kill(container.id));
  }
  await ctx.runtime.stop(container.id, STOP_TIMEOUT_SECONDS);
  const exitCode = (await ctx.runtime.containerExitCode(container.id).catch(() => undefined)) ?? null;
  let output;
  try {
    output = await ctx.runtime.logs(container.id, 0);
  } catch {
    // A --rm container (foreground session) took its output with it.
  }
  // A full or read-only state directory throws here: the stopped container keeps its output and
  // the record stays "running", for a later reconciliation to record both.
  if (output) new SessionOutputStore(ctx.stateDir).save(expiry.name, output);
  // Record the end before the container goes, so a concurrent reconciliation never finds a
  // running session without its container (and records it as gone, without the exit code).
  // The audit event and the counter follow at once, so `mino list` and `mino stats` agree.
  ctx.store.update(
    expiry.name,
    { status: statusForExit(exitCode), exit_code: exitCode, attached_by: null, suspended_at: null },
    { ifId: expiry.id },
  );
  ctx.audit.record('session.expired', {
    name: expiry.name,
    reason: expiry.reason,
    timeout_secs: expiry.timeoutSecs,
    since: iso(expiry.sinceMs),
    exit_code: exitCode,
  });
  bumpCounters(ctx.stateDir, { timeout_destroys: 1 });
  await ctx.runtime.remove(container.id);
  log.info('session expired', { name: expiry.name, reason: expiry.reason });
  return exitCode;
}
