import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { MinoError } from '../../../src/common/errors.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import type { SignalSource } from '../../../src/launch/signal-policy.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import type { HostFacts, RunRequest } from '../../../src/run/run-request.js';
import { runSession, type RunDeps } from '../../../src/run/run-session.js';
import { warmRun } from '../../../src/run/warm-run.js';
import { readCounters } from '../../../src/session/sandbox-counters.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

const IMAGE = 'localhost/mino-base:latest';

/** `mino run` end to end on the recording fake runtime: plan, record, execute (cold or warm), record. */
describe('runSession (fake runtime)', () => {
  let root: string;
  let project: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let said: string[];
  let printed: string[];
  let refills: { key: string; used?: string }[];
  let deps: RunDeps;

  // Rootless, no terminal: nothing of this host's own devices, users or credentials is involved.
  const facts = (): HostFacts => ({
    pid: process.pid,
    uid: 1000,
    gid: 1000,
    homeDir: '/home/alice',
    userHomes: [],
    rootless: true,
    cgroupV1: false,
    stdinIsTty: false,
    envLayers: undefined,
    envImage: undefined,
    localEngine: true,
    env: {},
  });
  const request = (o: Partial<RunRequest> = {}): RunRequest => ({
    name: 's1',
    projectDir: project,
    env: [],
    volumes: [],
    detach: false,
    readOnly: false,
    allowHome: false,
    command: ['npm', 'test'],
    dryRun: false,
    noCache: true,
    network: 'none',
    credentials: { github: false, passthrough: false, sshAgent: false, shareLogins: false, agentSettings: false },
    pool: { ...DEFAULT_POOL_SETTINGS },
    ...o,
  });
  const io = { say: (l: string): void => void said.push(l), print: (l: string): void => void printed.push(l) };
  const run = (o: Partial<RunRequest> = {}): Promise<number> => runSession(ctx, request(o), facts(), io, deps);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-run-session-'));
    project = join(root, 'proj');
    mkdirSync(project);
    const state = join(root, 'state');
    engine = new FakeRuntime();
    engine.addImage(IMAGE);
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
      dataDir: join(root, 'data'),
      sessionEnvDir: join(root, 'session-env'),
    };
    said = [];
    printed = [];
    refills = [];
    const signals: SignalSource = { on: () => undefined, off: () => undefined };
    deps = { signals, refill: (key, _s, used) => void refills.push({ key, ...(used === undefined ? {} : { used }) }) };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('starts cold: one podman run of the plan, the session recorded running, then stopped with exit 0', async () => {
    let during: string | undefined;
    engine.on('runAttached', () => {
      during = ctx.store.get('s1')?.status;
      return 0;
    });
    expect(await run()).toBe(0);
    const [spec] = engine.callsTo('runAttached')[0]!;
    expect(spec).toMatchObject({
      name: 'mino-s1',
      image: IMAGE,
      network: 'none',
      autoRemove: true,
      labels: { 'io.mino.session': 's1', 'io.mino.state': ctx.stateKey },
    });
    expect(engine.callsTo('run')).toEqual([]);
    expect(engine.callsTo('execSession')).toEqual([]);
    expect(during).toBe('running');
    expect(ctx.store.get('s1')).toMatchObject({ status: 'stopped', exit_code: 0, project_dir: project });
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 0, pool_misses: 1 });
  });

  it("passes the command's exit code through, and records it", async () => {
    engine.on('runAttached', () => 3);
    expect(await run()).toBe(3);
    expect(ctx.store.get('s1')).toMatchObject({ status: 'stopped', exit_code: 3 });
    engine.on('runAttached', () => 130);
    expect(await run({ name: 's2' })).toBe(130);
    expect(ctx.store.get('s2')).toMatchObject({ exit_code: 130 });
  });

  it('explains a container that could not start (podman exit 125, image gone) and records the session failed', async () => {
    engine.on('runAttached', () => {
      engine.images = [];
      return 125;
    });
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe(`Image ${IMAGE} is not available locally`);
    expect(ctx.store.get('s1')).toMatchObject({ status: 'failed', exit_code: 125 });
  });

  it('records a start that podman refused outright as failed, with the error explained', async () => {
    engine.failWith('runAttached', new Error('boom'));
    await expect(run()).rejects.toThrow('boom');
    expect(ctx.store.get('s1')).toMatchObject({ status: 'failed' });
  });

  it('serves a run from a warm container of the same plan: claim, exec, refill; nothing created', async () => {
    expect(await warmRun(ctx, request({ name: undefined }), facts(), io, 1)).toBe(0);
    const warm = engine.callsTo('run');
    expect(warm).toHaveLength(1);
    const warmId = engine.containers[0]!.id;
    engine.clearCalls();
    engine.on('execSession', () => 7);
    expect(await run()).toBe(7);
    expect(engine.callsTo('runAttached')).toEqual([]);
    expect(engine.callsTo('renameContainer')).toEqual([[warmId, 'mino-s1']]);
    const [id, argv] = engine.callsTo('execSession')[0]!;
    expect(id).toBe(warmId);
    expect(argv.slice(-2)).toEqual(['npm', 'test']);
    expect(refills).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{24}$/), used: warmId }]);
    expect(ctx.store.get('s1')).toMatchObject({ status: 'stopped', exit_code: 7 });
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1, pool_misses: 0, sandboxes_created: 1 });
  });

  it('starts a detached session and records it running with its container', async () => {
    expect(await run({ detach: true })).toBe(0);
    const id = engine.containers.find((c) => c.name === 'mino-s1')?.id;
    expect(id).toBeDefined();
    expect(ctx.store.get('s1')).toMatchObject({ status: 'running', container_id: id });
    expect(said.join('\n')).toMatch(/Session s1 started/);
  });

  it('--dry-run prints the podman command and the pool verdict; nothing is started or recorded', async () => {
    expect(await run({ dryRun: true })).toBe(0);
    expect(printed.at(-2)).toMatch(/^podman run -i --rm --pull=never --name mino-s1 /);
    expect(printed.at(-1)).toMatch(/^# Pool: no warm container for this plan/);
    expect(engine.callNames().filter((m) => ['run', 'runAttached', 'execSession', 'volumeCreate'].includes(m))).toEqual(
      [],
    );
    expect(ctx.store.get('s1')).toBeUndefined();
  });

  it('checks every input before anything is resolved: a bad -e is a usage error, no podman call', async () => {
    await expect(run({ env: ['1BAD=x'] })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/not a valid variable name/),
    });
    expect(engine.calls).toEqual([]);
  });
});
