import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLogins } from '../../../src/resources/agent-logins.js';
import { reconcileSessions } from '../../../src/lifecycle/reconcile-sessions.js';
import { sessionEnvOf, stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { prepareLoginsVolume } from '../../../src/run/session-credentials.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { MinoError } from '../../../src/common/errors.js';
import type { RunPlan } from '../../../src/launch/run-plan.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';

describe('session secrets and shared logins on the host', () => {
  let engine: FakeRuntime;
  let ctx: SessionContext;
  beforeEach(() => {
    engine = new FakeRuntime();
    const state = mkdtempSync(join(tmpdir(), 'mino-secrets-'));
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
      sessionEnvDir: join(state, 'run', 'session-env'),
    };
  });

  function session(name: string, status: 'running' | 'stopped'): void {
    ctx.store.create(
      newSessionRecord({
        name,
        projectDir: '/p',
        command: ['true'],
        containerId: `mino-${name}`,
        status,
        ownerPid: 999_999_999,
        mode: 'detached',
      }),
    );
  }

  it('reconciliation removes the env files of sessions that are not active, and only those', async () => {
    session('live', 'running');
    session('done', 'stopped');
    engine.containers = [
      fakeContainer('mino-live', 'running', {
        'io.mino.session': 'live',
        'io.mino.state': ctx.stateKey,
        'io.mino.mode': 'detached',
      }),
    ];
    const store = sessionEnvOf(ctx);
    store.write('live', 'x');
    store.write('done', 'x');
    store.write('no-record', 'x');
    const r = await reconcileSessions(ctx);
    expect(r.secretsRemoved.sort()).toEqual(['done', 'no-record']);
    expect(store.sessions()).toEqual(['live']);
    // Without active sessions reconciliation asks podman nothing, and still reaps.
    const calls = engine.calls.length;
    store.write('late', 'x');
    expect(
      (
        await reconcileSessions(
          { ...ctx, store: new SessionStore(mkdtempSync(join(tmpdir(), 'mino-empty-'))) },
          { activeOnly: true },
        )
      ).secretsRemoved,
    ).toEqual(['late', 'live']);
    expect(engine.calls.length).toBe(calls);
  });

  it('creates the logins volume once, with its labels', async () => {
    const plan = { loginsVolume: `mino-logins-${ctx.stateKey}` } as RunPlan;
    await prepareLoginsVolume(ctx, plan);
    await prepareLoginsVolume(ctx, plan);
    expect(engine.callsTo('volumeCreate').map(([name]) => name)).toEqual([`mino-logins-${ctx.stateKey}`]);
    expect(engine.volumes.get(plan.loginsVolume!)?.labels).toMatchObject({
      'io.mino.logins': 'true',
      'io.mino.state': ctx.stateKey,
    });
  });

  it('mino login --reset removes the volume (and its marker), refuses while a session uses it', async () => {
    const plan = { loginsVolume: `mino-logins-${ctx.stateKey}` } as RunPlan;
    // `find` in the volume (in the engine's user namespace) sees a stored Claude Code login.
    engine.on('unshare', (argv) => ({
      exitCode: 0,
      stdout: argv[0] === 'find' ? `${argv[1]}/claude/.credentials.json\n` : '',
      stderr: '',
    }));
    await prepareLoginsVolume(ctx, plan);
    engine.containers = [fakeContainer('mino-x', 'running', {}, { volumes: [plan.loginsVolume!] })];
    const err = await resetLogins(ctx, []).catch((e: unknown) => e as MinoError);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe('The shared agent logins are in use by a running session');
    engine.containers = [];
    expect(await resetLogins(ctx, [])).toEqual(['claude']);
    expect(engine.volumes.has(plan.loginsVolume!)).toBe(false);
    expect(existsSync(join(ctx.stateDir, 'logins-volume'))).toBe(false);
    await expect(resetLogins(ctx, ['vim'])).rejects.toThrow("Unknown agent 'vim'");
  });
});
