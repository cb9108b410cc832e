import { timeKey, isActive, type SessionRecord } from './session-record.js';
import { attachedClient, type ClientProbe } from './session-state.js';

/**
 * The session timeouts (idle, detach, suspend), decided from session files alone (pure, no I/O), so the sweep
 * that runs in every mino invocation touches the engine only when a deadline has passed:
 * - idle: a session with no client attached whose container printed nothing for `idleSecs`
 *   (measured from the later of the last client leaving and the last output seen): expired.
 *   The output time needs the engine, so a session past the file-only deadline is a candidate
 *   the caller confirms with the container's last output;
 * - detached: a session with no client attached for `detachSecs` (busy or not): expired;
 * - suspended: a session suspended for `suspendSecs`: expired.
 * A session with a client attached (`active`) never expires: a person is connected to it.
 * A timeout of 0 never expires. Ended sessions older than `autoCleanupHours` are forgotten
 * (their files removed); 0 keeps them.
 */

/** The timeouts in seconds (0 = never). */
interface SessionTimeouts {
  idleSecs: number;
  detachSecs: number;
  suspendSecs: number;
}

/** Why a session expired (audit `session.expired`, field `reason`). */
type ExpiryReason = 'idle' | 'detached' | 'suspended';

/** A session whose timeout has passed. */
export interface Expiry {
  name: string;
  id: string;
  reason: ExpiryReason;
  /** The timeout that passed, in seconds. */
  timeoutSecs: number;
  /** Milliseconds since the epoch from which the timeout was counted. */
  sinceMs: number;
}

/** A session idle by its files: expired unless its container printed something at or after `idleSinceMs`. */
interface IdleCandidate {
  name: string;
  id: string;
  timeoutSecs: number;
  /** Output at or after this time (ms since the epoch) keeps the session. */
  idleSinceMs: number;
  /** The later of the last client leaving and the last output recorded. */
  sinceMs: number;
}

/** What the sweep must do. */
export interface SweepPlan {
  expired: Expiry[];
  idle: IdleCandidate[];
  /** Foreground sessions whose `mino run` died, not yet stamped `detached_at`: stamp them now. */
  stampDetached: { name: string; id: string }[];
  /** Ended sessions past `autoCleanupHours`: remove their files. */
  forget: { name: string; id: string }[];
  /** The earliest future deadline (ms since the epoch), for status; undefined when none. */
  nextDeadlineMs: number | undefined;
}

/** Settings of the sweep (config `[session]`). */
export interface SweepSettings extends SessionTimeouts {
  /** `session.auto_cleanup_hours` (0 = keep ended sessions). */
  autoCleanupHours: number;
}

function ms(iso: string | null | undefined): number | undefined {
  if (typeof iso !== 'string') return undefined;
  const key = timeKey(iso);
  return key === undefined ? undefined : Number(key / 1_000_000n);
}

/** When the last client left a running session; undefined for a foreground session not yet stamped. */
function detachedSinceMs(record: SessionRecord): number | undefined {
  return ms(record.detached_at) ?? (record.mode === 'detached' ? ms(record.created_at) : undefined);
}

/** Decides the sweep from the session records at time `nowMs`. */
export function planSweep(
  records: readonly SessionRecord[],
  settings: SweepSettings,
  nowMs: number,
  probe: ClientProbe,
): SweepPlan {
  const plan: SweepPlan = { expired: [], idle: [], stampDetached: [], forget: [], nextDeadlineMs: undefined };
  const future = (at: number): void => {
    if (at > nowMs && (plan.nextDeadlineMs === undefined || at < plan.nextDeadlineMs)) plan.nextDeadlineMs = at;
  };
  for (const r of records) {
    if (!isActive(r)) {
      const ended = ms(r.updated_at);
      if (settings.autoCleanupHours > 0 && ended !== undefined) {
        const due = ended + settings.autoCleanupHours * 3_600_000;
        if (due <= nowMs) plan.forget.push({ name: r.name, id: r.id });
        else future(due);
      }
      continue;
    }
    if (r.status !== 'running' || attachedClient(r, probe)) continue;
    const suspended = ms(r.suspended_at);
    if (suspended !== undefined) {
      if (settings.suspendSecs > 0) {
        const due = suspended + settings.suspendSecs * 1000;
        if (due <= nowMs)
          plan.expired.push({
            name: r.name,
            id: r.id,
            reason: 'suspended',
            timeoutSecs: settings.suspendSecs,
            sinceMs: suspended,
          });
        else future(due);
      }
      continue;
    }
    const since = detachedSinceMs(r);
    if (since === undefined) {
      plan.stampDetached.push({ name: r.name, id: r.id });
      continue;
    }
    if (settings.detachSecs > 0) {
      const due = since + settings.detachSecs * 1000;
      if (due <= nowMs) {
        plan.expired.push({
          name: r.name,
          id: r.id,
          reason: 'detached',
          timeoutSecs: settings.detachSecs,
          sinceMs: since,
        });
        continue;
      }
      future(due);
    }
    if (settings.idleSecs > 0) {
      const last = Math.max(since, ms(r.last_output_at) ?? 0);
      const due = last + settings.idleSecs * 1000;
      if (due <= nowMs)
        plan.idle.push({
          name: r.name,
          id: r.id,
          timeoutSecs: settings.idleSecs,
          idleSinceMs: nowMs - settings.idleSecs * 1000,
          sinceMs: last,
        });
      else future(due);
    }
  }
  return plan;
}

/** True when the plan needs the engine (something expired or may have). */
export function needsEngine(plan: SweepPlan): boolean {
  return plan.expired.length > 0 || plan.idle.length > 0;
}
