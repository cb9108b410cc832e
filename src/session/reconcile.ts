import type { ContainerSummary } from '../runtime/container-runtime.js';
import { isActive, type SessionRecord, type SessionStatus } from './session-record.js';
import {
  CONTAINER_NAME_PREFIX,
  LABEL_OWNER_PID,
  LABEL_SESSION,
  LABEL_STATE,
  isWarmContainer,
} from './session-labels.js';

/**
 * Reconciliation of session files with podman: pure decisions, no I/O. Given the session
 * records, the containers podman reports and which owner processes are alive, it says which
 * records to correct, which containers to remove, and which containers are orphans.
 */

/** A correction to one session record. */
export interface SessionFix {
  name: string;
  from: SessionStatus;
  status: SessionStatus;
  exitCode: number | null;
  reason: string;
  /** Container to remove once its exit code is recorded (a finished detached run). */
  removeContainer?: string;
}

/** A mino container that no active session of this state directory accounts for. */
export interface Orphan {
  container: ContainerSummary;
  sessionName: string | undefined;
  /** The owner process is gone: nothing will ever clean this up but gc. */
  ownerDead: boolean;
}

/**
 * An attached session (`command` or `shell`) whose `mino run` died while its container runs on:
 * nobody is attached to it any more and nothing will record its end. Reconciliation leaves it
 * alone (a `mino list` must not kill a command); `mino gc` stops it.
 */
export interface Abandoned {
  name: string;
  container: ContainerSummary;
}

/** What reconciliation decided. */
export interface ReconcilePlan {
  fixes: SessionFix[];
  orphans: Orphan[];
  abandoned: Abandoned[];
}

/** Exit codes with which podman reports that the command could not be started at all. */
const START_FAILURES = new Set([125, 126, 127]);

/** Status for a command that ended with `exitCode` (mino 1.6: stopped for any exit of a started command). */
export function statusForExit(exitCode: number | null): SessionStatus {
  return exitCode !== null && START_FAILURES.has(exitCode) ? 'failed' : 'stopped';
}

/**
 * Finds the container of a session: by recorded ID (prefix) or name, else by `mino-<name>`.
 * A container labelled for another state directory is never the session's: container names are
 * global in podman, so after this session's container went, another state dir's run of the same
 * name may own `mino-<name>` (unlabelled mino 1.6 containers still match by recorded ID).
 */
export function containerOf(
  session: SessionRecord,
  containers: readonly ContainerSummary[],
  stateKey: string,
): ContainerSummary | undefined {
  const ref = session.container_id;
  if (ref) {
    const byRef = containers.find(
      (c) =>
        (c.labels[LABEL_STATE] ?? stateKey) === stateKey &&
        (c.name === ref || (ref.length >= 12 && c.id.startsWith(ref))),
    );
    if (byRef) return byRef;
  }
  return containers.find(
    (c) => c.name === `${CONTAINER_NAME_PREFIX}${session.name}` && c.labels[LABEL_STATE] === stateKey,
  );
}

function ownerPidOf(c: ContainerSummary): number | undefined {
  const pid = Number(c.labels[LABEL_OWNER_PID]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Decides how session records and containers disagree.
 * `alive(pid)` says whether a process exists on this host.
 */
export function planReconcile(
  sessions: readonly SessionRecord[],
  containers: readonly ContainerSummary[],
  stateKey: string,
  alive: (pid: number) => boolean,
): ReconcilePlan {
  const fixes: SessionFix[] = [];
  const abandoned: Abandoned[] = [];
  const accounted = new Set<string>();
  for (const s of sessions) {
    const c = containerOf(s, containers, stateKey);
    if (c && isActive(s)) accounted.add(c.id);
    if (!isActive(s)) continue;
    const ownerAlive = typeof s.owner_pid === 'number' && alive(s.owner_pid);
    if (!c) {
      // An attached run removes its container (--rm) and records the end itself while its
      // owner lives; a run still starting has no container yet.
      if (ownerAlive) continue;
      // Still "starting" means the owner died before the run began (attached runs are marked
      // running before podman creates the container): the command never ran.
      fixes.push({
        name: s.name,
        from: s.status,
        status: s.status === 'starting' ? 'failed' : 'stopped',
        exitCode: null,
        reason: 'container is gone',
      });
      continue;
    }
    // An attached run whose owner lives records its own start and end (podman may be removing
    // the --rm container right now; a warm pool container runs before the owner marks the
    // session running): leave it to the owner, which knows the exit code first-hand.
    if (ownerAlive && (s.mode === 'command' || s.mode === 'shell')) continue;
    if (c.state === 'exited' || c.state === 'stopped') {
      const exitCode = c.exitCode ?? null;
      fixes.push({
        name: s.name,
        from: s.status,
        status: statusForExit(exitCode),
        exitCode,
        reason: `container exited with code ${exitCode ?? 'unknown'}`,
        // Attached runs use --rm (podman removes them); detached ones are kept for their exit code.
        removeContainer: c.id,
      });
      continue;
    }
    if (c.state === 'created' && !ownerAlive) {
      fixes.push({
        name: s.name,
        from: s.status,
        status: 'failed',
        exitCode: null,
        reason: 'container was never started',
        removeContainer: c.id,
      });
      continue;
    }
    if (s.status === 'starting' && (c.state === 'running' || c.state === 'paused')) {
      fixes.push({ name: s.name, from: s.status, status: 'running', exitCode: null, reason: 'container is running' });
    }
    if (
      !ownerAlive &&
      (s.mode === 'command' || s.mode === 'shell') &&
      (c.state === 'running' || c.state === 'paused')
    ) {
      abandoned.push({ name: s.name, container: c });
    }
  }
  const orphans: Orphan[] = [];
  for (const c of containers) {
    if (c.labels[LABEL_STATE] !== stateKey || accounted.has(c.id)) continue;
    // Unclaimed warm pool containers are the pool's (they expire by themselves), not orphans.
    if (isWarmContainer(c)) continue;
    const pid = ownerPidOf(c);
    orphans.push({ container: c, sessionName: c.labels[LABEL_SESSION], ownerDead: pid === undefined || !alive(pid) });
  }
  return { fixes, orphans, abandoned };
}
