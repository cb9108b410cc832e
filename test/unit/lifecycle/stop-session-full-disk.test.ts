import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gcSessions } from '../../../src/lifecycle/gc-sessions.js';
import { reconcileSessions } from '../../../src/lifecycle/reconcile-sessions.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { stopSession } from '../../../src/lifecycle/stop-session.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { MinoError } from '../../../src/common/errors.js';
import type { SweepSettings } from '../../../src/session/timeouts.js';
import { LABEL_OWNER_PID, LABEL_SESSION, LABEL_STATE } from '../../../src/session/session-labels.js';
import { SessionOutputStore } from '../../../src/session/session-output.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer, type FakeContainer } from '../../helpers/fake-runtime.js';

/**
 * A full (or read-only) state directory while a session ends: the end is recorded and the output
 * saved before the container goes; when they cannot be written, the container stays with its
 * output and exit code, nothing claims a transition it did not save, and the next stop/list/gc
 * finishes the job once the directory takes writes again.
 */

const SETTINGS: SweepSettings = { idleSecs: 300, detachSecs: 3600, suspendSecs: 86400, autoCleanupHours: 720 };
const DEAD_PID = 2 ** 22 + 12345; // above pid_max: never alive

function enospc(path: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, write`), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
    path,
  });
}

describe('ending a session on a full state directory', () => {
  let state: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-full-disk-'));
    engine = new FakeRuntime();
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, true),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(state, { recursive: true, force: true });
  });

  function session(name: string, containerState: FakeContainer['state'], exitCode?: number): FakeContainer {
    ctx.store.create(
      newSessionRecord({
        name,
        projectDir: '/p',
        command: ['sh'],
        containerId: `mino-${name}`,
        status: 'running',
        ownerPid: DEAD_PID,
        mode: 'detached',
      }),
    );
    const c = fakeContainer(
      `mino-${name}`,
      containerState,
      { [LABEL_SESSION]: name, [LABEL_STATE]: ctx.stateKey, [LABEL_OWNER_PID]: String(DEAD_PID) },
      exitCode === undefined ? {} : { exitCode },
    );
    c.logs = { stdout: 'hello-out\n', stderr: 'hello-err\n' };
    engine.containers.push(c);
    return c;
  }
  const diskFull = (): void => {
    vi.spyOn(ctx.store, 'update').mockImplementation(() => {
      throw enospc(join(state, 'sessions', '.x.json.tmp'));
    });
    vi.spyOn(SessionOutputStore.prototype, 'save').mockImplementation(() => {
      throw enospc(join(state, 'output', 'x.out'));
    });
  };
  const audit = (): string[] => {
    try {
      return readFileSync(join(state, 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { event: string }).event);
    } catch {
      return [];
    }
  };

  it('mino stop: the record is written before the container is removed; when it cannot be, the container stays', async () => {
    session('full', 'running');
    diskFull();
    const err = await stopSession(ctx, 'full', false).catch((e: unknown) => e);
    expect(errnoOf(err)).toBe('ENOSPC');
    expect(engine.callNames()).toContain('stop');
    expect(engine.callNames()).not.toContain('remove');
    expect(engine.containers.map((c) => c.state)).toEqual(['exited']);
    vi.restoreAllMocks();
    expect(ctx.store.get('full')?.status).toBe('running');
    expect(audit()).not.toContain('session.stopped');

    // Space again: the next list (reconciliation) records the exit code, keeps the output, removes the container.
    const { fixes } = await reconcileSessions(ctx);
    expect(fixes.map((f) => f.name)).toEqual(['full']);
    expect(ctx.store.get('full')).toMatchObject({ status: 'stopped', exit_code: 143 });
    expect(new SessionOutputStore(state).read('full')).toEqual({ stdout: 'hello-out\n', stderr: 'hello-err\n' });
    expect(engine.containers).toEqual([]);
  });

  it('mino stop on a writable directory records the end, then removes the container', async () => {
    session('ok', 'running');
    const { record, stopped } = await stopSession(ctx, 'ok', false);
    expect(stopped).toBe(true);
    expect(record).toMatchObject({ status: 'stopped', exit_code: 143 });
    expect(engine.containers).toEqual([]);
    expect(audit()).toEqual(['session.stopped']);
  });

  it('reconciliation keeps a finished container (and its output) whose end it cannot save, and reports no fix', async () => {
    session('done', 'exited', 3);
    diskFull();
    const r = await reconcileSessions(ctx);
    expect(r.fixes).toEqual([]);
    expect(r.unsaved).toEqual(['done']);
    expect(r.warnings).toEqual([
      `Could not record the end of session 'done' (running -> stopped): Cannot write to mino's state directory ${state} (${join(state, 'output', 'x.out')}): the file system is full (ENOSPC)`,
    ]);
    expect(engine.callNames()).not.toContain('remove');
    vi.restoreAllMocks();
    expect(ctx.store.get('done')?.status).toBe('running');
    expect(engine.containers).toHaveLength(1);
  });

  it('gc says only what it saved: no "running -> stopped" it could not write, exit-worthy unsaved list, container kept', async () => {
    session('done', 'exited', 3);
    session('lost', 'running'); // attached session whose mino died: gc stops it
    ctx.store.update('lost', { mode: 'command' });
    diskFull();
    const r = await gcSessions(ctx, false, SETTINGS);
    expect(r.fixes).toEqual([]);
    expect(r.abandoned).toEqual([]);
    expect([...r.unsaved].sort()).toEqual(['done', 'lost']);
    expect(r.warnings.join('\n')).toMatch(/the file system is full \(ENOSPC\)/);
    expect(engine.callNames()).not.toContain('remove');
    vi.restoreAllMocks();
    expect(ctx.store.get('done')?.status).toBe('running');
    expect(ctx.store.get('lost')?.status).toBe('running');
    expect(engine.containers).toHaveLength(2);
  });
});

function errnoOf(err: unknown): string | undefined {
  if (err instanceof MinoError) return undefined;
  return (err as NodeJS.ErrnoException).code;
}
