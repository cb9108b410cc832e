import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { SuspendUnsupportedError, suspendSession } from '../../../src/lifecycle/session-control.js';
import { followSessionLogs, sessionLogs } from '../../../src/lifecycle/session-logs.js';
import { EngineError, NotFoundError, NotSupportedError } from '../../../src/runtime/runtime-errors.js';
import { LABEL_OWNER_PID, LABEL_SESSION, LABEL_STATE } from '../../../src/session/session-labels.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';

const DEAD_PID = 2 ** 22 + 17;
const NO_LOGS = "Session 'a' has no container any more, so it has no logs";

/** An error of an engine that is not podman: its words mean nothing to the use cases. */
function engineSaid<T extends EngineError>(
  kind: new (message: string, failure: { engineExitCode: number; stderr: string }) => T,
): T {
  return new kind('the engine said no', { engineExitCode: 9, stderr: 'computer says no' });
}

describe("session use cases act on the engine-neutral errors, not on an engine's error text", () => {
  let state: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-neutral-'));
    engine = new FakeRuntime();
    engine.engineInfo = { ...engine.engineInfo, rootless: false, cgroupVersion: 'v2' };
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, true),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    ctx.store.create(
      newSessionRecord({
        name: 'a',
        projectDir: '/p',
        command: ['sh'],
        containerId: 'mino-a',
        status: 'running',
        ownerPid: DEAD_PID,
        mode: 'detached',
      }),
    );
    engine.containers.push(
      fakeContainer('mino-a', 'running', {
        [LABEL_SESSION]: 'a',
        [LABEL_STATE]: ctx.stateKey,
        [LABEL_OWNER_PID]: String(DEAD_PID),
      }),
    );
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('suspend: an engine that cannot pause here (NotSupportedError) is SuspendUnsupportedError, nothing recorded', async () => {
    engine.failWith('pause', engineSaid(NotSupportedError));
    const err = await suspendSession(ctx, 'a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SuspendUnsupportedError);
    expect((err as Error).message).toBe(
      "Cannot suspend session 'a': podman cannot pause this container here (no cgroup of its own to freeze)",
    );
    expect(ctx.store.get('a')?.suspended_at).toBeUndefined();
  });

  it('suspend: any other engine failure comes through as it is', async () => {
    const failure = engineSaid(EngineError);
    engine.failWith('pause', failure);
    await expect(suspendSession(ctx, 'a')).rejects.toBe(failure);
  });

  it('logs: a container the engine no longer has (NotFoundError) and no saved output says the session has no logs', async () => {
    engine.failWith('logs', engineSaid(NotFoundError));
    await expect(sessionLogs(ctx, 'a', 10)).rejects.toThrow(NO_LOGS);
  });

  it('logs: any other engine failure comes through as it is', async () => {
    const failure = engineSaid(EngineError);
    engine.failWith('logs', failure);
    await expect(sessionLogs(ctx, 'a', 10)).rejects.toBe(failure);
  });

  it('logs -f: a container that is gone, with nothing saved, says the session has no logs', async () => {
    engine.containers = [];
    await expect(followSessionLogs(ctx, 'a')).rejects.toThrow(NO_LOGS);
  });
});
