import { EXIT_USAGE, MinoError } from '../common/errors.js';
import { identityAlive, identityPid, processIdentity } from '../common/process-identity.js';
import { pidAlive } from '../common/pid-alive.js';
import type { ContainerSummary, RuntimeInfo } from '../runtime/container-runtime.js';
import { NotSupportedError } from '../runtime/runtime-errors.js';
import { attachedClient } from '../session/session-state.js';
import { containerOf } from '../session/reconcile.js';
import type { SessionRecord } from '../session/session-record.js';
import { SessionNotFoundError } from '../session/session-store.js';
import { reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';
import { hostProbe } from './sweep-sessions.js';

/**
 * Detach, suspend and resume of one session, and the bookkeeping around an attach.
 * Every request is checked against the reconciled record and the engine before anything
 * changes: an unknown session, one that ended, one in the wrong state is a usage error (exit 2)
 * that changes nothing; a host that cannot pause is a plain error (exit 1) saying why.
 */

/** A request that makes no sense for the session as it is (exit 2); nothing was changed. */
export class SessionStateError extends MinoError {
  constructor(message: string, hint: string) {
    super(message, { hint, exitCode: EXIT_USAGE });
    this.name = 'SessionStateError';
  }
}

/** The host cannot pause containers (rootless Podman on cgroup v1); nothing was changed. */
export class SuspendUnsupportedError extends MinoError {
  constructor(name: string, reason: string) {
    super(`Cannot suspend session '${name}': ${reason}`, {
      hint: `Suspending needs rootful Podman or a host with cgroup v2; the session keeps running (stop it with 'mino stop ${name}')`,
    });
    this.name = 'SuspendUnsupportedError';
  }
}

/** A running session and its container, reconciled with the engine (one `podman ps`). */
interface LiveSession {
  record: SessionRecord;
  container: ContainerSummary;
}

/**
 * The session `name` with its container, for `verb` (attach, suspend, resume, detach): unknown,
 * ended or still starting sessions are {@link SessionStateError}s.
 */
async function liveSession(ctx: SessionContext, name: string, verb: string): Promise<LiveSession> {
  ctx.store.require(name);
  const { sessions, containers } = await reconcileSessions(ctx);
  const record = sessions.find((s) => s.name === name);
  if (!record) throw new SessionNotFoundError(name);
  if (record.status === 'stopped' || record.status === 'failed') {
    throw new SessionStateError(
      `Cannot ${verb} session '${name}': it has ended (status: ${record.status})`,
      `Start a new one with 'mino run -d -n ${name}'`,
    );
  }
  if (record.status === 'starting') {
    throw new SessionStateError(`Cannot ${verb} session '${name}': it is still starting`, 'Try again in a moment');
  }
  const container = containerOf(record, containers, ctx.stateKey);
  if (!container || (container.state !== 'running' && container.state !== 'paused')) {
    throw new SessionStateError(
      `Cannot ${verb} session '${name}': its container is not running`,
      "Run 'mino list -a' to see its state",
    );
  }
  return { record, container };
}

/** Why the engine cannot pause containers, or undefined when it can. */
function pauseUnsupported(info: RuntimeInfo): string | undefined {
  if (info.rootless && info.cgroupVersion === 'v1') {
    return 'rootless Podman cannot pause containers on a cgroup v1 host (a rootless container has no cgroup of its own to freeze)';
  }
  return undefined;
}

/** `mino suspend`: pauses the session's container (`podman pause`); its processes keep their memory. */
export async function suspendSession(ctx: SessionContext, name: string): Promise<SessionRecord> {
  const { record, container } = await liveSession(ctx, name, 'suspend');
  if (container.state === 'paused') {
    throw new SessionStateError(`Session '${name}' is already suspended`, `Resume it with 'mino resume ${name}'`);
  }
  const reason = pauseUnsupported(await ctx.runtime.info());
  if (reason) throw new SuspendUnsupportedError(name, reason);
  try {
    await ctx.runtime.pause(container.id);
  } catch (err) {
    if (err instanceof NotSupportedError) {
      throw new SuspendUnsupportedError(
        name,
        'podman cannot pause this container here (no cgroup of its own to freeze)',
      );
    }
    throw err;
  }
  const updated = ctx.store.update(name, { suspended_at: new Date().toISOString() }, { ifId: record.id });
  ctx.audit.record('session.suspended', { name });
  return updated;
}

/** `mino resume`: unpauses a suspended session; its timeouts count again from now. */
export async function resumeSession(ctx: SessionContext, name: string): Promise<SessionRecord> {
  const { record, container } = await liveSession(ctx, name, 'resume');
  if (container.state !== 'paused') {
    throw new SessionStateError(
      `Session '${name}' is not suspended`,
      `It is running; suspend it with 'mino suspend ${name}'`,
    );
  }
  await ctx.runtime.unpause(container.id);
  const updated = ctx.store.update(
    name,
    { suspended_at: null, detached_at: new Date().toISOString(), last_output_at: null },
    { ifId: record.id },
  );
  ctx.audit.record('session.resumed', { name });
  return updated;
}

/** How an attach ended. */
export interface AttachOutcome {
  /** True when the session runs on (the client detached); false when it ended while attached. */
  detached: boolean;
  /** The record afterwards. */
  record: SessionRecord;
  /** The session's exit code when it ended while attached. */
  exitCode: number | null;
}

/**
 * `mino attach`: connects this terminal to a running session's main process until the detach
 * keys, `mino detach` (which aborts `signal`) or the end of the command. The client is recorded
 * in the session (`attached_by`), so the session is Active meanwhile and `mino detach` can find it.
 */
export async function attachSession(
  ctx: SessionContext,
  name: string,
  options: { detachKeys: string; signal?: AbortSignal; onAttach?: () => void },
): Promise<AttachOutcome> {
  const { record, container } = await liveSession(ctx, name, 'attach to');
  if (container.state === 'paused') {
    throw new SessionStateError(
      `Cannot attach to session '${name}': it is suspended`,
      `Resume it first with 'mino resume ${name}'`,
    );
  }
  const client = attachedClient(record, hostProbe);
  if (client === 'attach') {
    throw new SessionStateError(
      `Session '${name}' already has a client attached (pid ${identityPid(record.attached_by ?? '') ?? '?'})`,
      `Detach it first with 'mino detach ${name}'`,
    );
  }
  if (client === 'run') {
    throw new SessionStateError(
      `Session '${name}' runs in the foreground of its mino run (pid ${record.owner_pid ?? '?'})`,
      'Use that terminal, or mino exec for a second shell',
    );
  }
  const me = processIdentity();
  ctx.store.update(name, { attached_by: me }, { ifId: record.id });
  ctx.audit.record('session.attached', { name, pid: process.pid });
  try {
    options.onAttach?.();
    await ctx.runtime.attach(container.id, { detachKeys: options.detachKeys, signal: options.signal });
  } finally {
    const now = ctx.store.get(name);
    if (now && now.id === record.id && now.attached_by === me) {
      ctx.store.update(name, { attached_by: null, detached_at: new Date().toISOString() }, { ifId: record.id });
    }
  }
  // Did the command end, or did the client leave?
  const { sessions, containers } = await reconcileSessions(ctx);
  const after = sessions.find((s) => s.name === name) ?? record;
  const c = containerOf(after, containers, ctx.stateKey);
  if (after.id === record.id && after.status === 'running' && c && (c.state === 'running' || c.state === 'paused')) {
    ctx.audit.record('session.detached', { name, by: options.signal?.aborted ? 'signal' : 'keys' });
    return { detached: true, record: after, exitCode: null };
  }
  return { detached: false, record: after, exitCode: after.exit_code ?? null };
}

/** Signal `mino detach` sends to a `mino attach` client. */
export const DETACH_SIGNAL: NodeJS.Signals = 'SIGUSR2';

/**
 * `mino detach`: ends the `mino attach` client of a session (DETACH_SIGNAL to the process
 * recorded in `attached_by`); the session runs on. Waits up to `waitMs` for the client to go.
 */
export async function detachSession(ctx: SessionContext, name: string, waitMs = 10_000): Promise<{ pid: number }> {
  const { record } = await liveSession(ctx, name, 'detach');
  const client = attachedClient(record, hostProbe);
  if (client === 'run') {
    throw new SessionStateError(
      `Session '${name}' runs in the foreground of its mino run (pid ${record.owner_pid ?? '?'}): there is no client to detach`,
      'Start sessions to detach from with mino run -d',
    );
  }
  const identity = record.attached_by;
  const pid = client === 'attach' && identity ? identityPid(identity) : undefined;
  if (!identity || pid === undefined) {
    throw new SessionStateError(`No client is attached to session '${name}'`, `Attach one with 'mino attach ${name}'`);
  }
  try {
    process.kill(pid, DETACH_SIGNAL);
  } catch (err) {
    throw new MinoError(`Cannot signal the client of session '${name}' (pid ${pid}): ${(err as Error).message}`, {
      hint: 'Only the user who attached can detach it',
    });
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline && identityAlive(identity) && ctx.store.get(name)?.attached_by === identity) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (pidAlive(pid) && ctx.store.get(name)?.attached_by === identity) {
    throw new MinoError(
      `The client of session '${name}' (pid ${pid}) did not detach within ${Math.round(waitMs / 1000)} s`,
      { hint: 'Close its terminal, or press the detach keys there' },
    );
  }
  return { pid };
}
