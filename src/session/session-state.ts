import type { ContainerState } from '../runtime/container-runtime.js';
import { isActive, type SessionRecord } from './session-record.js';

/**
 * The lifecycle states of a session, derived (never stored) from the session record and, when asked,
 * the engine:
 * - `active`: the container is up and a client is attached — the `mino run` that started it in
 *   the foreground (its owner process lives), or a `mino attach` (recorded in `attached_by`);
 * - `detached`: the container is up and no client is attached (`mino run -d`, after a detach,
 *   or a foreground session whose `mino run` died);
 * - `suspended`: the container is paused (`mino suspend`);
 * - `terminated`: the session ended (status stopped or failed, or its container is gone).
 * The record's `status` field (starting/running/stopped/failed) is kept as it was.
 */

/** The lifecycle state of a session. */
export type SessionState = 'active' | 'detached' | 'suspended' | 'terminated';

/** How liveness of processes is checked (the real ones live in src/common; tests pass fakes). */
export interface ClientProbe {
  /** A process with this PID exists. */
  pidAlive(pid: number): boolean;
  /** The process of a `<pid>@<start>` identity still runs. */
  identityAlive(identity: string): boolean;
}

/** Modes in which the `mino run` that owns the session is attached to it. */
function foreground(record: SessionRecord): boolean {
  return record.mode === 'command' || record.mode === 'shell';
}

/** Who is attached: a `mino attach`, the foreground `mino run`, or nobody. */
export function attachedClient(record: SessionRecord, probe: ClientProbe): 'attach' | 'run' | undefined {
  if (typeof record.attached_by === 'string' && probe.identityAlive(record.attached_by)) return 'attach';
  if (foreground(record) && typeof record.owner_pid === 'number' && probe.pidAlive(record.owner_pid)) return 'run';
  return undefined;
}

/**
 * The state of a session. `container` is the engine's state of its container when the caller
 * asked the engine (`'gone'`: asked, and there is none); undefined means the engine was not
 * asked, and the record's `suspended_at` stands in for the paused state.
 */
export function sessionState(
  record: SessionRecord,
  container: ContainerState | 'gone' | undefined,
  probe: ClientProbe,
): SessionState {
  if (!isActive(record)) return 'terminated';
  if (record.status === 'starting') {
    // Its `mino run` is starting it (or died doing so, which reconciliation finds).
    return typeof record.owner_pid === 'number' && probe.pidAlive(record.owner_pid) ? 'active' : 'detached';
  }
  if (container === 'gone' || container === 'exited' || container === 'stopped') return 'terminated';
  if (container === 'paused') return 'suspended';
  if (container === undefined && typeof record.suspended_at === 'string') return 'suspended';
  return attachedClient(record, probe) ? 'active' : 'detached';
}

/** Display name of a state, capitalised (`Active`), as `mino list` shows it. */
export function stateLabel(state: SessionState): string {
  return state.charAt(0).toUpperCase() + state.slice(1);
}
