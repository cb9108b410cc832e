import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { reconcileSessions } from '../../../src/lifecycle/reconcile-sessions.js';
import { stopSession } from '../../../src/lifecycle/stop-session.js';
import { engineCaSecretName, engineEnvSecretName } from '../../../src/launch/remote-plan.js';
import { newNetworkRecord, readNetworkRecord } from '../../../src/network/network-record.js';
import { remoteEgressNames } from '../../../src/network/remote-egress.js';
import { EngineUnreachableError } from '../../../src/runtime/runtime-errors.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

const DEAD_PID = 2 ** 22 + 17;

describe('reconciling sessions of several engines', () => {
  let state: string;
  let local: FakeRuntime;
  let gpu: FakeRuntime;
  let ctx: SessionContext;

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-engines-'));
    local = new FakeRuntime();
    gpu = new FakeRuntime();
    ctx = {
      runtime: local,
      runtimeOf: (engine) => (engine === 'gpu' ? gpu : local),
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    for (const [name, engine] of [
      ['here', undefined],
      ['there', 'gpu'],
    ] as const) {
      ctx.store.create(
        newSessionRecord({
          name,
          projectDir: '/p',
          command: ['sh'],
          containerId: `mino-${name}`,
          status: 'running',
          ownerPid: DEAD_PID,
          mode: 'detached',
          ...(engine ? { engine } : {}),
        }),
      );
    }
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('asks each engine about its own sessions only', async () => {
    const r = await reconcileSessions(ctx);
    // Neither engine has the container: each session is ended by its own engine's answer.
    expect(r.fixes.map((f) => f.name).sort()).toEqual(['here', 'there']);
    expect(gpu.calls.filter((c) => c.method === 'listContainers')).toHaveLength(1);
  });

  it('removes the credentials secret on the engine of a session whose mino was killed, and only there', async () => {
    const secret = engineEnvSecretName(ctx.stateKey, 'there');
    await gpu.secretCreate(secret, 'TOKEN=canary', { 'io.mino.state': ctx.stateKey });
    const r = await reconcileSessions(ctx);
    expect(r.fixes.map((f) => f.name).sort()).toEqual(['here', 'there']);
    expect(gpu.calls.filter((c) => c.method === 'secretRemove').map((c) => c.args)).toEqual([
      [secret],
      [engineCaSecretName(ctx.stateKey, 'there')],
    ]);
    expect(await gpu.secretList({})).toEqual([]);
    // This machine's sessions keep their env file on the host: no podman secret to remove.
    expect(local.calls.filter((c) => c.method === 'secretRemove')).toEqual([]);
    // A second reconciliation finds nothing to fix and asks for nothing more.
    await reconcileSessions(ctx);
    expect(gpu.calls.filter((c) => c.method === 'secretRemove')).toHaveLength(2);
  });

  it('ends the egress proxy of a remote session whose mino was killed: its record kept here, proxy and network gone', async () => {
    ctx.store.update('there', { network: 'allowlist' });
    const names = remoteEgressNames(ctx.stateKey, 'there');
    await gpu.networkCreateInternal(names.network, {});
    gpu.addImage('localhost/mino-egress:x');
    await gpu.run({ image: 'localhost/mino-egress:x', command: [], name: names.container, network: names.network });
    const record = newNetworkRecord(
      'there',
      'allowlist',
      { mode: 'allowlist', allow: ['a.example:443'], deny: [] },
      [],
    );
    gpu.containers.find((c) => c.name === names.container)!.logs = {
      stdout: `ready 10.89.7.2:3128\nrecord ${JSON.stringify({ ...record, ended_at: record.started_at })}\n`,
      stderr: '',
    };
    await reconcileSessions(ctx);
    expect(gpu.containers.map((c) => c.name)).not.toContain(names.container);
    expect(gpu.networks).not.toContain(names.network);
    expect(readNetworkRecord(state, 'there')?.policy.allow).toEqual(['a.example:443']);
    // This machine's session has no proxy container anywhere.
    expect(local.calls.filter((c) => c.method === 'networkRemove')).toEqual([]);
  });

  it('mino stop of a session on another engine removes its credentials secret there', async () => {
    const secret = engineEnvSecretName(ctx.stateKey, 'there');
    await gpu.secretCreate(secret, 'TOKEN=canary', { 'io.mino.state': ctx.stateKey });
    // The container still runs there (its mino was killed): stop, on the session's engine.
    gpu.on('listContainers', () => [
      { id: 'c1', name: 'mino-there', state: 'running', labels: { 'io.mino.state': ctx.stateKey } } as never,
    ]);
    const { stopped } = await stopSession({ ...ctx, runtime: gpu, engine: 'gpu' }, 'there', true);
    expect(stopped).toBe(true);
    expect(gpu.calls.filter((c) => c.method === 'secretRemove').map((c) => c.args)).toEqual([
      [secret],
      [engineCaSecretName(ctx.stateKey, 'there')],
    ]);
    expect(await gpu.secretList({})).toEqual([]);
  });

  it('warns, naming the secret and never a value, when the engine refuses to remove it', async () => {
    gpu.failWith('secretRemove', new Error('permission denied'));
    const r = await reconcileSessions(ctx);
    expect(ctx.store.get('there')?.status).not.toBe('running');
    const warning = r.warnings.find((w) => w.includes('credentials of session'));
    expect(warning).toContain(engineEnvSecretName(ctx.stateKey, 'there'));
    expect(warning).toContain('permission denied');
  });

  it('never ends the sessions of an engine that does not answer, and says so once', async () => {
    gpu.failWith('listContainers', new EngineUnreachableError('no route', { engineExitCode: 125, stderr: '' }));
    const r = await reconcileSessions(ctx);
    expect(r.fixes.map((f) => f.name)).toEqual(['here']);
    expect(r.unreachable).toEqual(['gpu']);
    expect(r.warnings.filter((w) => w.includes('Engine gpu did not answer'))).toHaveLength(1);
    expect(ctx.store.get('there')?.status).toBe('running');
  });

  it('leaves another engine alone without a way to reach it', async () => {
    const { runtimeOf: _, ...alone } = ctx;
    const r = await reconcileSessions(alone);
    expect(r.fixes.map((f) => f.name)).toEqual(['here']);
    expect(ctx.store.get('there')?.status).toBe('running');
  });
});
