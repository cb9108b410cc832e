import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainPool } from '../../../src/pool/drain-pool.js';
import { executeWithPool, poolVerdict, type PoolUse } from '../../../src/pool/pooled-run.js';
import { poolStatus } from '../../../src/pool/pool-status.js';
import { refillPool } from '../../../src/pool/refill-pool.js';
import { requestRefill } from '../../../src/pool/pool-refill-spawn.js';
import { queueUsed, refillMarkerPath, usedContainers } from '../../../src/pool/pool-index.js';
import { releaseLock, tryAcquire } from '../../../src/common/file-lock.js';
import { warmPool as warmPoolWith, type WarmIo } from '../../../src/pool/warm-pool.js';
import { warmSteps } from '../../../src/run/warm-run.js';
import type { PoolSettings } from '../../../src/pool/pool-settings.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { buildRunPlan, type RunPlan, type RunPlanInput } from '../../../src/launch/run-plan.js';
import { readCounters } from '../../../src/session/sandbox-counters.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';
import { proxiedKeyCredentials, typicalInput } from '../launch/plan-input.js';
import { waitFor } from '../../helpers/wait-for.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import { newNetworkRecord } from '../../../src/network/network-record.js';
import type { EgressPlan } from '../../../src/network/egress-plan.js';
import type { EgressSessionContext, EgressStarter } from '../../../src/network/session-egress.js';

const IMAGE = 'localhost/mino-base:latest';

/** Warms the pool of `plan` with the run pipeline's own steps, as `mino pool warm` does. */
const warmPool = (
  ctx: SessionContext,
  plan: RunPlan,
  count: number,
  settings: PoolSettings,
  io: WarmIo,
): Promise<number> => warmPoolWith(ctx, plan, count, settings, io, warmSteps(ctx, plan, io));

describe('warm pool use cases (fake runtime)', () => {
  let root: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let refills: { key: string; used?: string }[];
  let use: PoolUse;
  const said: string[] = [];
  const printed: string[] = [];
  const io = { say: (l: string) => said.push(l), print: (l: string) => printed.push(l) };

  const plan = (o: Partial<RunPlanInput> = {}): RunPlan =>
    buildRunPlan(
      typicalInput({
        projectDir: join(root, 'proj'),
        homeDir: '/home/alice',
        stateKey: ctx.stateKey,
        stdinIsTty: false,
        ...o,
      }),
    );

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-pool-uc-'));
    mkdirSync(join(root, 'proj'));
    const state = join(root, 'state');
    engine = new FakeRuntime();
    engine.addImage(IMAGE);
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    refills = [];
    use = {
      settings: { ...DEFAULT_POOL_SETTINGS },
      fresh: false,
      refill: (key, _s, used) => refills.push({ key, ...(used === undefined ? {} : { used }) }),
    };
    said.length = 0;
    printed.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('warms N containers of the run plan, idempotently, and counts their creation', async () => {
    expect(await warmPool(ctx, plan(), 2, use.settings, io)).toBe(0);
    const runs = engine.callsTo('run').map(([spec]) => spec);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ autoRemove: true, image: IMAGE, labels: { 'io.mino.state': ctx.stateKey } });
    expect(printed[0]).toMatch(/^Pool [0-9a-f]{12}: 2 warm \(2 started\)/);
    engine.clearCalls();
    await warmPool(ctx, plan({ sessionName: 'x' }), 3, use.settings, io);
    expect(engine.callsTo('run')).toHaveLength(1);
    expect(readCounters(ctx.stateDir)).toMatchObject({ sandboxes_created: 3 });
    expect(poolStatus(ctx.stateDir, use.settings)).toMatchObject({ warm_total: 3, pools: [{ target: 3, warm: 3 }] });
  });

  it('refuses bad counts and unpoolable plans; clamps to max_warm with a notice', async () => {
    await expect(warmPool(ctx, plan(), 0, use.settings, io)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/at least 1/),
    });
    await expect(warmPool(ctx, plan({ detach: true }), 2, use.settings, io)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/cannot be kept warm/),
    });
    await expect(warmPool(ctx, plan(), 2, { ...use.settings, enabled: false }, io)).rejects.toMatchObject({
      exitCode: 2,
    });
    expect(engine.callsTo('run')).toHaveLength(0);
    await warmPool(ctx, plan(), 1000, { ...use.settings, maxWarm: 3 }, io);
    expect(said.join('\n')).toMatch(/-n 1000 is above pool.max_warm \(3\); keeping 3 warm/);
    expect(engine.callsTo('run')).toHaveLength(3);
  });

  it('serves a matching run from a warm container: claim, image check, exec; never twice; refill asked', async () => {
    await warmPool(ctx, plan(), 1, use.settings, io);
    const warmId = engine.containers[0]!.id;
    engine.clearCalls();
    const p = plan({ sessionName: 'first', command: ['npm', 'test'] });
    expect(poolVerdict(ctx.stateDir, p, use).kind).toBe('warm');
    expect(await executeWithPool(ctx, p, use)).toEqual({ kind: 'exited', exitCode: 0 });
    expect(engine.callLog()).toEqual([
      `renameContainer ${warmId} mino-first`,
      `imageInspect ${IMAGE}`,
      expect.stringMatching(new RegExp(`^execSession ${warmId} \\["/bin/sh","-c",".*","mino","npm","test"\\]`)),
    ]);
    expect(engine.callsTo('execSession')[0]![2]).toMatchObject({
      tty: false,
      interactive: true,
      workdir: p.workdir,
      ownProcessGroup: true,
    });
    expect(refills).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{24}$/), used: warmId }]);
    // The next run finds the pool empty and starts cold: a miss, and a refill of this pool.
    engine.clearCalls();
    expect(await executeWithPool(ctx, plan({ sessionName: 'second' }), use)).toEqual({ kind: 'exited', exitCode: 0 });
    expect(engine.callNames()).toEqual(['runAttached']);
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1, pool_misses: 1, sandboxes_created: 2 });
    expect(refills).toHaveLength(2);
  });

  it('serves a run through the warm agent: no exec, no rename for a short command; the dry run says so', async () => {
    // The agent runs on this machine here: the plan's working directory must be one of its own.
    const onHost = (o: Partial<RunPlanInput> = {}): RunPlan => {
      const p = plan(o);
      return { ...p, spec: { ...p.spec, workdir: root } };
    };
    await warmPool(ctx, onHost(), 1, use.settings, io);
    const warm = engine.containers[0]!;
    const spec = engine.callsTo('run')[0]![0] as { mounts: { source: string; target: string }[]; command: string[] };
    const dir = spec.mounts.find((m) => m.target === '/run/mino/agent')!.source;
    expect(spec.command.at(-1)).toBe('/run/mino/agent');
    expect(poolVerdict(ctx.stateDir, onHost(), use).message).toMatch(/with podman exec \(no agent socket/);
    // The container's agent, run here by this machine's Node on the mounted directory.
    const agent = spawn(process.execPath, [join(dir, 'agent.js'), dir, '60', join(dir, 'exec.pid')], {
      stdio: 'ignore',
    });
    try {
      await waitFor(() => existsSync(join(dir, 'sock')), 5000);
      expect(poolVerdict(ctx.stateDir, onHost(), use).message).toMatch(/through its agent \(no podman call\)$/);
      engine.clearCalls();
      const p = onHost({ sessionName: 'via-agent', command: ['sh', '-c', 'exit 4'] });
      expect(await executeWithPool(ctx, p, use)).toEqual({ kind: 'exited', exitCode: 4 });
      // Only the image check (this fake engine has no image store index to tell it is unchanged).
      expect(engine.callNames()).toEqual(['imageInspect']);
      expect(refills).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{24}$/), used: warm.id }]);
      expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1 });
    } finally {
      agent.kill('SIGKILL');
    }
  });

  it('never serves a run whose plan differs, nor --fresh, nor a disabled pool', async () => {
    await warmPool(ctx, plan(), 1, use.settings, io);
    engine.clearCalls();
    await executeWithPool(ctx, plan({ network: 'none' }), use);
    await executeWithPool(ctx, plan(), { ...use, fresh: true });
    await executeWithPool(ctx, plan(), { ...use, settings: { ...use.settings, enabled: false } });
    expect(engine.callNames()).toEqual(['runAttached', 'runAttached', 'runAttached']);
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 0, pool_misses: 1 });
    expect(poolVerdict(ctx.stateDir, plan(), { ...use, fresh: true }).message).toMatch(/bypassed \(--fresh\)/);
    expect(poolVerdict(ctx.stateDir, plan({ detach: true }), use).message).toMatch(
      /cannot be served warm: a detached session/,
    );
  });

  it('starts cold when the image was rebuilt since the pool was warmed, and drops those warm containers', async () => {
    await warmPool(ctx, plan(), 2, use.settings, io);
    engine.images[0]!.id = 'f'.repeat(64);
    engine.clearCalls();
    await executeWithPool(ctx, plan({ sessionName: 'after' }), use);
    // Renamed to the session's container name already: removed before the cold start needs the name.
    expect(engine.callLog().slice(2)).toEqual([
      expect.stringMatching(/^remove /),
      expect.stringMatching(/^runAttached .*"name":"mino-after"/),
    ]);
    expect(engine.callNames()).toEqual(['renameContainer', 'imageInspect', 'remove', 'runAttached']);
    expect(poolVerdict(ctx.stateDir, plan(), use).kind).toBe('empty');
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 0, pool_misses: 1 });
  });

  it('skips a warm container that vanished behind its back', async () => {
    await warmPool(ctx, plan(), 2, use.settings, io);
    const key = poolVerdict(ctx.stateDir, plan(), use);
    const order = key.kind === 'warm' ? key.warm.map((e) => e.id) : [];
    const gone = engine.containers.find((c) => c.id === order[0]);
    const kept = engine.containers.find((c) => c.id === order[1]);
    engine.containers = engine.containers.filter((c) => c !== gone);
    // podman exec into a missing container exits 125 with its error on stderr.
    engine.on('execSession', (id) => (engine.containers.some((c) => c.id === id) ? 0 : 125));
    engine.clearCalls();
    await executeWithPool(ctx, plan({ sessionName: 's' }), use);
    expect(engine.callsTo('renameContainer').map(([id]) => id)).toEqual([gone!.id, kept!.id]);
    expect(engine.callsTo('execSession').map(([id]) => id)).toEqual([gone!.id, kept!.id]);
  });

  it('refill removes the used container and tops the pool up within max_warm; drain removes warm containers only', async () => {
    await warmPool(ctx, plan(), 2, use.settings, io);
    await executeWithPool(ctx, plan({ sessionName: 'used' }), use);
    const key = refills[0]!.key;
    engine.clearCalls();
    await refillPool(ctx, key, { maxWarm: 10, ttlSeconds: 600, remove: refills[0]!.used, quietMs: 0 });
    expect(engine.callNames()).toEqual(['remove', 'imageInspect', 'run']);
    expect(poolStatus(ctx.stateDir, use.settings).warm_total).toBe(2);
    await refillPool(ctx, key, { maxWarm: 10, ttlSeconds: 600, quietMs: 0 });
    expect(engine.callsTo('run')).toHaveLength(1);
    engine.containers.push(
      fakeContainer('mino-session', 'running', { 'io.mino.state': ctx.stateKey, 'io.mino.pool': key }),
    );
    expect(await drainPool(ctx)).toEqual({ containers: 2, pools: 1, unreachable: [] });
    expect(engine.containers.map((c) => c.name)).toEqual(['mino-session']);
    expect(poolStatus(ctx.stateDir, use.settings)).toMatchObject({ warm_total: 0, pools: [] });
  });
});

describe('warm pool of contained runs (fake runtime, recorded proxies)', () => {
  let root: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  let refills: string[];
  let started: { plan: EgressPlan; ctx: EgressSessionContext; released: boolean }[];
  let claims: { session: string; warm: string; allow: string[] }[];
  const quiet = { say: () => undefined, print: () => undefined };

  const starter: EgressStarter = (plan, c) => {
    const entry = { plan, ctx: c, released: false };
    started.push(entry);
    return {
      ready: Promise.resolve(),
      failure: () => undefined,
      finish: () => Promise.resolve(undefined),
      abort: () => Promise.resolve(),
      release: () => {
        entry.released = true;
      },
    };
  };

  const contained = (session: string, mode: 'allowlist' | 'learn' = 'allowlist', rules = ['example.com:443']) =>
    buildRunPlan(
      typicalInput({
        sessionName: session,
        projectDir: join(root, 'proj'),
        homeDir: '/home/alice',
        stateKey: ctx.stateKey,
        stdinIsTty: false,
        egress: buildEgressPlan({
          mode,
          rules: mode === 'learn' ? [] : parseRules(rules),
          presets: [],
          paths: egressPaths(join(root, 'egress'), ctx.stateKey, session),
          systemHooksDirs: ['/etc/containers/oci/hooks.d'],
        }),
      }),
    );

  const useWith = (claim: PoolUse['claimEgress']): PoolUse => ({
    settings: { ...DEFAULT_POOL_SETTINGS },
    fresh: false,
    refill: (_k, _s, used) => refills.push(used ?? ''),
    ...(claim ? { claimEgress: claim } : {}),
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-pool-egress-'));
    mkdirSync(join(root, 'proj'));
    const state = join(root, 'state');
    engine = new FakeRuntime();
    engine.addImage(IMAGE);
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
      egressBase: join(root, 'egress'),
    };
    refills = [];
    started = [];
    claims = [];
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const warm = (plan: RunPlan, n: number): Promise<number> =>
    warmPoolWith(ctx, plan, n, DEFAULT_POOL_SETTINGS, quiet, { ...warmSteps(ctx, plan, quiet), startEgress: starter });

  it('gives each warm container a proxy of its own that allows nothing, outliving the warming', async () => {
    await warm(contained('w', 'learn'), 2);
    const runs = engine.callsTo('run').map(([spec]) => spec as { name: string; hooksDirs: string[] });
    expect(started).toHaveLength(2);
    for (const [i, s] of started.entries()) {
      expect(s.ctx).toMatchObject({ session: runs[i]!.name, warm: true, ownerPid: process.pid });
      // Learn mode is the claim's to give: until then, an allowlist without a rule.
      expect(s.plan.policy).toEqual({ mode: 'allowlist', allow: [], deny: [] });
      expect(s.released).toBe(true);
      expect(runs[i]!.hooksDirs).toEqual(['/etc/containers/oci/hooks.d', join(s.plan.dir, 'hooks.d')]);
    }
    expect(started[0]!.plan.dir).not.toBe(started[1]!.plan.dir);
  });

  it("serves a contained run of other rules warm: the proxy gets the run's policy before the command; its record comes back", async () => {
    await warm(contained('w'), 2);
    const record = newNetworkRecord(
      'served',
      'allowlist',
      { mode: 'allowlist', allow: ['other.example:443'], deny: [] },
      [],
    );
    const use = useWith(async (_c, plan, warmName) => {
      claims.push({ session: plan.sessionName, warm: warmName, allow: plan.network.egress!.policy.allow });
      return { finish: () => Promise.resolve(record) };
    });
    engine.clearCalls();
    const p = contained('served', 'allowlist', ['other.example:443']);
    expect(poolVerdict(ctx.stateDir, p, use).kind).toBe('warm');
    expect(await executeWithPool(ctx, p, use)).toEqual({ kind: 'exited', exitCode: 0, network: record });
    expect(claims).toEqual([
      { session: 'served', warm: expect.stringMatching(/^mino\.warm\./), allow: ['other.example:443'] },
    ]);
    expect(engine.callNames()).toEqual(['renameContainer', 'imageInspect', 'execSession']);
    // Learn mode is another pool.
    expect(poolVerdict(ctx.stateDir, contained('l', 'learn'), use).kind).toBe('empty');
  });

  it('passes over a warm container whose proxy does not take the claim (removed, never used), then starts cold', async () => {
    await warm(contained('w'), 1);
    const id = engine.containers[0]!.id;
    const use = useWith(() => Promise.reject(new Error('the egress proxy is not running')));
    engine.clearCalls();
    const cold: EgressStarter = (plan, c) => starter(plan, c);
    const out = await executeWithPool(ctx, contained('after'), use, undefined, {
      start: cold,
      context: {
        session: 'after',
        stateDir: ctx.stateDir,
        stateKey: ctx.stateKey,
        audit: false,
        ownerPid: 1,
        rootless: true,
        self: [],
      },
    });
    expect(out).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(engine.callNames()).toEqual(['runAttached']);
    expect(refills).toContain(id);
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 0 });
  });

  /** A contained plan whose proxy keeps an API key (its placeholder, a CA bundle of the session's own). */
  const terminating = (session: string) => {
    const base = contained(session);
    return buildRunPlan(
      typicalInput({
        sessionName: session,
        projectDir: join(root, 'proj'),
        homeDir: '/home/alice',
        stateKey: ctx.stateKey,
        stdinIsTty: false,
        egress: base.network.egress,
        credentials: proxiedKeyCredentials(session, join(root, 'session-env', `${session}.ca.crt`)),
      }),
    );
  };

  it("serves a run whose credentials stay at the proxy: the warm proxy starts with a CA and no credential, the claim hands it the run's, the command gets its placeholder", async () => {
    await warm(terminating('w'), 1);
    expect(started).toHaveLength(1);
    const secrets = started[0]!.ctx.secrets;
    expect(secrets?.ca?.keyPem).toContain('PRIVATE KEY');
    expect(secrets?.credentials).toEqual([]);
    // The container trusts that CA, from a bundle of its own, where a session's bundle goes.
    const spec = engine.callsTo('run')[0]![0] as {
      mounts: { source: string; target: string }[];
      env: Record<string, string>;
    };
    const bundles = spec.mounts.filter((m) => m.target.endsWith('ca-certificates.crt'));
    expect(bundles).toHaveLength(2);
    for (const m of bundles) {
      expect(m.source).toMatch(/\/pool\/agents\/[^/]+\/ca-bundle\.crt$/);
      expect(readFileSync(m.source, 'utf8')).toContain(secrets!.ca!.certPem.trim());
    }
    expect(spec.env).not.toHaveProperty('ANTHROPIC_API_KEY');
    const handed: unknown[] = [];
    const use: PoolUse = {
      ...useWith(async (_c, _plan, _warm, credentials) => {
        handed.push(credentials);
        return { finish: () => Promise.resolve(undefined) };
      }),
      credentials: [
        {
          variable: 'ANTHROPIC_API_KEY',
          placeholder: 'mino-proxy-managed-anthropic_api_key-served0000000000',
          value: 'sk-ant-REAL',
          hosts: ['api.anthropic.com'],
          header: 'x-api-key',
          prefix: '',
          add: true,
        },
      ],
    };
    engine.clearCalls();
    const p = terminating('served');
    expect(poolVerdict(ctx.stateDir, p, use).kind).toBe('warm');
    expect(await executeWithPool(ctx, p, use)).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(handed).toEqual([use.credentials]);
    const exec = engine.callsTo('execSession')[0]!;
    expect(exec[2]).toMatchObject({
      env: { ANTHROPIC_API_KEY: 'mino-proxy-managed-anthropic_api_key-served0000000000' },
    });
    expect(JSON.stringify(engine.calls)).not.toContain('sk-ant-REAL');
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1 });
  });
});

describe('one refill per pool for a burst of runs', () => {
  let root: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  const settings = { ...DEFAULT_POOL_SETTINGS };
  const io = { say: () => undefined, print: () => undefined };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-pool-burst-'));
    mkdirSync(join(root, 'proj'));
    const state = join(root, 'state');
    engine = new FakeRuntime();
    engine.addImage(IMAGE);
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function warmedKey(count: number): Promise<string> {
    const p = buildRunPlan(
      typicalInput({
        projectDir: join(root, 'proj'),
        homeDir: '/home/alice',
        stateKey: ctx.stateKey,
        stdinIsTty: false,
      }),
    );
    await warmPool(ctx, p, count, settings, io);
    const v = poolVerdict(ctx.stateDir, p, { settings, fresh: false });
    if (v.kind !== 'warm') throw new Error(v.message);
    return v.key;
  }

  it('runs queue their used containers; only a run that finds no refill under way starts one', async () => {
    const key = await warmedKey(1);
    const spawned: (string | undefined)[] = [];
    const spawn = (_k: string, _s: PoolSettings, used?: string): void => void spawned.push(used);
    requestRefill(ctx.stateDir, key, settings, 'a'.repeat(64), spawn);
    expect(spawned).toEqual([undefined]);
    // A refill under way (its marker names a live process: this one) takes the next runs' containers.
    const marker = refillMarkerPath(ctx.stateDir, key);
    expect(tryAcquire(marker, 'n1')).toBe(true);
    requestRefill(ctx.stateDir, key, settings, 'b'.repeat(64), spawn);
    requestRefill(ctx.stateDir, key, settings, 'c'.repeat(64), spawn);
    expect(spawned).toHaveLength(1);
    expect(poolStatus(ctx.stateDir, settings).refilling).toBe(true);
    // A refill started meanwhile leaves the work to the one under way.
    await refillPool(ctx, key, { maxWarm: 10, ttlSeconds: 600, quietMs: 0 });
    expect(engine.callsTo('remove')).toHaveLength(0);
    releaseLock(marker, 'n1');
    expect(usedContainers(ctx.stateDir, key).ids).toEqual(['a', 'b', 'c'].map((c) => c.repeat(64)));
    // A used container of a pool drained meanwhile does not bring the pool back.
    expect(() => queueUsed(ctx.stateDir, 'f'.repeat(24), 'd'.repeat(64))).toThrow();
    expect(() => queueUsed(ctx.stateDir, key, '../x')).toThrow(/Invalid container ID/);
  });

  it('the refill removes every queued container once, tops the pool up and lets go of its marker', async () => {
    const key = await warmedKey(2);
    for (const c of ['a', 'b', 'c']) queueUsed(ctx.stateDir, key, c.repeat(64));
    engine.clearCalls();
    await refillPool(ctx, key, { maxWarm: 10, ttlSeconds: 600, quietMs: 50 });
    expect(engine.callsTo('remove').map(([id]) => id)).toEqual(['a', 'b', 'c'].map((c) => c.repeat(64)));
    expect(usedContainers(ctx.stateDir, key).ids).toEqual([]);
    expect(existsSync(refillMarkerPath(ctx.stateDir, key))).toBe(false);
    expect(poolStatus(ctx.stateDir, settings)).toMatchObject({ refilling: false, warm_total: 2 });
  });
});

describe('warm start without asking podman for the image', () => {
  it('skips the image check while the image store is unchanged, and asks again once it changed', async () => {
    const { utimesSync, writeFileSync } = await import('node:fs');
    const root = mkdtempSync(join(tmpdir(), 'mino-pool-store-'));
    try {
      mkdirSync(join(root, 'proj'));
      const state = join(root, 'state');
      const engine = new FakeRuntime();
      engine.addImage(IMAGE);
      engine.imageStoreIndex = join(root, 'images.json');
      writeFileSync(engine.imageStoreIndex, '[]');
      const old = new Date(Date.now() - 60_000);
      utimesSync(engine.imageStoreIndex, old, old);
      const ctx: SessionContext = {
        runtime: engine,
        store: new SessionStore(state),
        audit: new AuditLog(state, false),
        stateDir: state,
        stateKey: stateKeyFor(state),
      };
      const use: PoolUse = { settings: { ...DEFAULT_POOL_SETTINGS }, fresh: false, refill: () => undefined };
      const plan = (name: string): RunPlan =>
        buildRunPlan(
          typicalInput({
            sessionName: name,
            projectDir: join(root, 'proj'),
            homeDir: '/home/alice',
            stateKey: ctx.stateKey,
            stdinIsTty: false,
          }),
        );
      await warmPool(ctx, plan('w'), 2, use.settings, { say: () => undefined, print: () => undefined });
      engine.clearCalls();
      await executeWithPool(ctx, plan('a'), use);
      expect(engine.callNames()).toEqual(['renameContainer', 'execSession']);
      // An image was tagged meanwhile: the reference may name another image now.
      utimesSync(engine.imageStoreIndex, new Date(), new Date());
      engine.clearCalls();
      await executeWithPool(ctx, plan('b'), use);
      expect(engine.callNames()).toEqual(['renameContainer', 'imageInspect', 'execSession']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads the image ID from the engine's image store index when it changed; asks podman only when it cannot", async () => {
    const { utimesSync, writeFileSync } = await import('node:fs');
    const root = mkdtempSync(join(tmpdir(), 'mino-pool-index-'));
    try {
      mkdirSync(join(root, 'proj'));
      const state = join(root, 'state');
      const engine = new FakeRuntime();
      engine.addImage(IMAGE);
      engine.imageStoreIndex = join(root, 'images.json');
      writeFileSync(engine.imageStoreIndex, '[]');
      const ctx: SessionContext = {
        runtime: engine,
        store: new SessionStore(state),
        audit: new AuditLog(state, false),
        stateDir: state,
        stateKey: stateKeyFor(state),
      };
      const refilled: string[] = [];
      const use: PoolUse = {
        settings: { ...DEFAULT_POOL_SETTINGS },
        fresh: false,
        refill: (_k, _s, used) => void refilled.push(used ?? ''),
      };
      const plan = (name: string): RunPlan =>
        buildRunPlan(
          typicalInput({
            sessionName: name,
            projectDir: join(root, 'proj'),
            homeDir: '/home/alice',
            stateKey: ctx.stateKey,
            stdinIsTty: false,
          }),
        );
      await warmPool(ctx, plan('w'), 2, use.settings, { say: () => undefined, print: () => undefined });
      const id = (await engine.imageInspect(IMAGE))!.id;
      const index = (named: string): void =>
        writeFileSync(
          engine.imageStoreIndex!,
          JSON.stringify([
            { id: 'f'.repeat(64), names: ['localhost/other:1'] },
            { id: named, names: ['localhost/mino-base:abc', IMAGE] },
          ]),
        );
      // Changed since the containers were warmed (another image tagged), still naming their image.
      index(id);
      engine.clearCalls();
      await executeWithPool(ctx, plan('a'), use);
      expect(engine.callNames()).toEqual(['renameContainer', 'execSession']);
      // The name moved to a rebuilt image: the warm container is never served; the run starts cold.
      index('e'.repeat(64));
      engine.clearCalls();
      await executeWithPool(ctx, plan('b'), use);
      expect(engine.callNames()).not.toContain('execSession');
      expect(engine.callNames()).toContain('runAttached');
      // An index that does not parse: podman is asked.
      await warmPool(ctx, plan('w2'), 1, use.settings, { say: () => undefined, print: () => undefined });
      writeFileSync(engine.imageStoreIndex!, '{');
      utimesSync(engine.imageStoreIndex!, new Date(), new Date(Date.now() + 5000));
      engine.clearCalls();
      await executeWithPool(ctx, plan('c'), use);
      expect(engine.callNames()).toContain('imageInspect');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
