import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { planOnEngine } from '../../../src/launch/remote-plan.js';
import { sessionCaBundlePath } from '../../../src/credentials/host-ca-bundle.js';
import { caBundleDigest } from '../../../src/engine/engine-ca-secrets.js';
import { buildRunPlan, type RunPlan, type RunPlanInput } from '../../../src/launch/run-plan.js';
import { drainPool } from '../../../src/pool/drain-pool.js';
import { readPool } from '../../../src/pool/pool-index.js';
import { poolabilityOf } from '../../../src/pool/pool-key.js';
import { DEFAULT_POOL_SETTINGS } from '../../../src/pool/pool-settings.js';
import { poolStatus } from '../../../src/pool/pool-status.js';
import { executeWithPool, poolVerdict, type PoolUse } from '../../../src/pool/pooled-run.js';
import { refillPool } from '../../../src/pool/refill-pool.js';
import { engineOfPlan, poolEngines, syncHelperOfPlan } from '../../../src/pool/remote-pool.js';
import { OUTPUT_GUARD_SCRIPT } from '../../../src/pool/remote-output.js';
import type { ExecOutput } from '../../../src/runtime/container-runtime.js';
import { runHelper } from '../../../src/sync/sync-helper.js';
import { warmPool } from '../../../src/pool/warm-pool.js';
import { warmSteps } from '../../../src/run/warm-run.js';
import { readCounters } from '../../../src/session/sandbox-counters.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { addEngine } from '../../../src/engine/manage-engines.js';
import { readEngineRegistry } from '../../../src/engine/engine-registry.js';
import { removeEngineAndPools } from '../../../src/pool/remove-engine.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';
import { REMOTE_TEST_IMAGE } from '../network/remote-egress-fixture.js';
import { buildEgressPlan } from '../../../src/network/egress-plan.js';
import { egressPaths } from '../../../src/network/egress-paths.js';
import { parseRules } from '../../../src/network/rule.js';
import { remoteEgressNames } from '../../../src/network/remote-egress.js';
import { parseRemoteProxyLaunch } from '../../../src/network/remote-proxy-protocol.js';
import type { EgressSecrets } from '../../../src/network/egress-secrets.js';
import { newNetworkRecord, readNetworkRecord } from '../../../src/network/network-record.js';
import { typicalInput } from '../launch/plan-input.js';

const IMAGE = 'localhost/mino-base:latest';

// The proxy image needs mino's built bundle: these tests use the fixture's.
vi.mock('../../../src/network/egress-image.js', async (original) => ({
  ...(await original<typeof import('../../../src/network/egress-image.js')>()),
  ensureEgressImage: async () => REMOTE_TEST_IMAGE,
}));

/** What this process's stdout was given by the code under test (see guardedExec). */
const written: string[] = [];

/**
 * A `podman exec` of a guarded remote run (remote-output.ts): `stdout`, then both trailers with
 * the nonce of the wrapper's argv, on the output mino took; then `exitCode`.
 */
function guardedExec(
  exitCode: number,
  stdout = '',
): (id: string, argv: string[], o: { output?: ExecOutput }) => number {
  return (_id, argv, o) => {
    const nonce = argv[4];
    o.output?.stdout(Buffer.from(`${stdout}\x1emino-end ${nonce} ${stdout.length}\x1e`));
    o.output?.stderr(Buffer.from(`\x1emino-end ${nonce} 0\x1e`));
    return exitCode;
  };
}

/** The warm pool on a remote engine, on recording fake runtimes (one per engine). */
describe('warm pool on a remote engine (fake runtimes)', () => {
  let root: string;
  let here: FakeRuntime;
  let gpu: FakeRuntime;
  let ctx: SessionContext;
  let local: SessionContext;
  let refills: { key: string; used?: string }[];
  let use: PoolUse;
  const said: string[] = [];
  const io = { say: (l: string) => said.push(l), print: (l: string) => said.push(l) };

  const localPlan = (o: Partial<RunPlanInput> = {}): RunPlan =>
    buildRunPlan(
      typicalInput({
        projectDir: join(root, 'proj'),
        homeDir: '/home/alice',
        stateKey: ctx.stateKey,
        stdinIsTty: false,
        network: 'none',
        ...o,
      }),
    );
  const remotePlan = (o: Partial<RunPlanInput> = {}, engine = 'gpu'): RunPlan =>
    planOnEngine(localPlan(o), engine, 'mino-project-0123456789ab').plan;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-remote-pool-'));
    mkdirSync(join(root, 'proj'));
    const state = join(root, 'state');
    here = new FakeRuntime();
    gpu = new FakeRuntime();
    here.addImage(IMAGE);
    gpu.addImage(IMAGE);
    const runtimeOf = (engine: string | undefined): FakeRuntime => {
      if (engine === undefined) return here;
      if (engine === 'gpu') return gpu;
      throw new Error(`unknown engine ${engine}`);
    };
    local = {
      runtime: here,
      runtimeOf,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
      dataDir: join(root, 'data'),
    };
    ctx = { ...local, runtime: gpu, engine: 'gpu' };
    refills = [];
    use = {
      settings: { ...DEFAULT_POOL_SETTINGS },
      fresh: false,
      refill: (key, _s, used) => refills.push({ key, ...(used === undefined ? {} : { used }) }),
    };
    said.length = 0;
    written.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it('keys the engine: the same run here, on one engine and on another never share a pool', () => {
    const keyOf = (plan: RunPlan): string => {
      const p = poolabilityOf(plan);
      if (!p.poolable) throw new Error(p.reason);
      return p.key;
    };
    const onGpu = keyOf(remotePlan());
    expect(onGpu).toBe(keyOf(remotePlan({ sessionName: 'other', command: ['make'] })));
    expect(onGpu).not.toBe(keyOf(localPlan()));
    expect(onGpu).not.toBe(keyOf(remotePlan({}, 'build')));
    expect(engineOfPlan(remotePlan())).toBe('gpu');
    expect(engineOfPlan(localPlan())).toBeUndefined();
  });

  it('warms on the engine: the project volume mounted, no warm agent, the record names the engine', async () => {
    const plan = remotePlan();
    expect(await warmPool(ctx, plan, 2, use.settings, io, warmSteps(ctx, plan, io))).toBe(0);
    expect(here.callsTo('run')).toEqual([]);
    const runs = gpu.callsTo('run').map(([spec]) => spec);
    expect(runs).toHaveLength(2);
    const spec = runs[0]!;
    expect(spec.mounts?.some((m) => m.source === 'mino-project-0123456789ab')).toBe(true);
    expect(spec.mounts?.some((m) => m.target === '/run/mino/agent')).toBe(false);
    expect(spec.mounts?.filter((m) => m.source.startsWith('/'))).toEqual([]);
    expect(spec.command?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(spec.command?.[2]).not.toContain('agent.js');
    expect(spec.labels).toMatchObject({ 'io.mino.engine': 'gpu', 'io.mino.state': ctx.stateKey });
    const key = (poolabilityOf(plan) as { key: string }).key;
    expect(readPool(ctx.stateDir, key)).toMatchObject({ engine: 'gpu', target: 2 });
    expect(said.join('\n')).toMatch(/2 warm \(2 started\) .* on engine gpu/);
    expect(poolEngines(ctx.stateDir)).toEqual([undefined, 'gpu']);
    expect(poolStatus(ctx.stateDir, use.settings).pools).toMatchObject([{ engine: 'gpu', warm: 2 }]);
    expect(poolStatus(ctx.stateDir, use.settings, new Date(), null).pools).toEqual([]);
  });

  it('serves a run on the engine with podman exec there (rename, image check, exec), never twice; the dry run says so', async () => {
    const plan = remotePlan();
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    const warmId = gpu.containers[0]!.id;
    gpu.clearCalls();
    const run = remotePlan({ sessionName: 'first', command: ['make'] });
    expect(poolVerdict(ctx.stateDir, run, use).message).toMatch(
      /a warm container would serve this run .* on engine gpu with podman exec through its ssh tunnel/,
    );
    gpu.on('execSession', guardedExec(3, 'made\n'));
    expect(await executeWithPool(ctx, run, use)).toEqual({ kind: 'exited', exitCode: 3 });
    expect(gpu.callNames()).toEqual(['renameContainer', 'imageInspect', 'execSession']);
    const [, argv, options] = gpu.callsTo('execSession')[0]!;
    expect(argv.slice(-1)).toEqual(['make']);
    // Its output comes through mino, the trailers taken off (remote-output.ts): nothing read back.
    expect(argv.slice(0, 4)).toEqual(['/bin/sh', '-c', OUTPUT_GUARD_SCRIPT, 'mino']);
    expect(options.output).toBeDefined();
    expect(written.join('')).toBe('made\n');
    expect(here.callNames()).toEqual([]);
    expect(refills).toEqual([{ key: expect.stringMatching(/^[0-9a-f]{24}$/), used: warmId }]);
    // The same run here is not served by the engine's pool.
    expect(poolVerdict(ctx.stateDir, localPlan(), use).kind).toBe('empty');
    // A second claim finds no warm container and starts cold on the engine.
    gpu.clearCalls();
    expect(await executeWithPool(ctx, remotePlan({ sessionName: 'second' }), use)).toEqual({
      kind: 'exited',
      exitCode: 0,
    });
    expect(gpu.callNames()).toEqual(['runAttached']);
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1, pool_misses: 1 });
  });

  it('starts cold when the warm container on the engine is gone (podman exec 125, rename refused)', async () => {
    const plan = remotePlan();
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    gpu.containers = [];
    gpu.on('execSession', () => 125);
    gpu.clearCalls();
    expect(await executeWithPool(ctx, remotePlan({ sessionName: 'gone' }), use)).toEqual({
      kind: 'exited',
      exitCode: 0,
    });
    // No trailer: one look for the output's copy (the container is gone: none), then cold.
    expect(gpu.callNames()).toEqual([
      'renameContainer',
      'imageInspect',
      'execSession',
      'readContainerFile',
      'runAttached',
    ]);
  });

  it('refills on the engine of the pool; drain removes warm containers on every engine, or on one', async () => {
    const plan = remotePlan();
    await warmPool(ctx, plan, 2, use.settings, io, warmSteps(ctx, plan, io));
    const here1 = localPlan();
    await warmPool(local, here1, 1, use.settings, io, warmSteps(local, here1, io));
    await executeWithPool(ctx, remotePlan({ sessionName: 'used' }), use);
    gpu.clearCalls();
    await refillPool(ctx, refills[0]!.key, { maxWarm: 10, ttlSeconds: 600, remove: refills[0]!.used, quietMs: 0 });
    expect(gpu.callNames()).toEqual(['remove', 'imageInspect', 'run']);
    expect(poolStatus(ctx.stateDir, use.settings).warm_total).toBe(3);
    // Only the engine's pools.
    expect(await drainPool(local, { engine: 'gpu' })).toEqual({ containers: 2, pools: 1, unreachable: [] });
    expect(gpu.containers.filter((c) => c.name.startsWith('mino.warm.'))).toEqual([]);
    expect(poolStatus(ctx.stateDir, use.settings).pools).toMatchObject([{ engine: null, warm: 1 }]);
    expect(here.containers).toHaveLength(1);
    // Every engine's; one that does not answer is reported, its pools forgotten all the same.
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    gpu.failWith('listContainers', new Error('ssh: connect to host refused'));
    expect(await drainPool(local)).toEqual({ containers: 1, pools: 2, unreachable: ['gpu'] });
    expect(poolStatus(ctx.stateDir, use.settings).pools).toEqual([]);
  });

  it("engine remove drains that engine's pools there first (warm containers and sync helper), or refuses at once while a session runs there", async () => {
    const env = { ...process.env, XDG_CONFIG_HOME: join(root, 'config') };
    await addEngine({ name: 'gpu', url: 'unix:///run/gpu.sock', env });
    const plan = remotePlan();
    const steps = { ...warmSteps(ctx, plan, io), projectVolume: 'mino-project-0123456789ab' };
    await warmPool(ctx, plan, 2, use.settings, io, steps);
    const here1 = localPlan();
    await warmPool(local, here1, 1, use.settings, io, warmSteps(local, here1, io));
    expect(gpu.containers.filter((c) => c.name.startsWith('mino.warm.'))).toHaveLength(3);
    local.store.create(
      newSessionRecord({
        name: 'busy',
        projectDir: '/p',
        command: ['sh'],
        containerId: 'mino-busy',
        status: 'running',
        ownerPid: process.pid,
        mode: 'detached',
        engine: 'gpu',
      }),
    );
    gpu.clearCalls();
    await expect(removeEngineAndPools(local, 'gpu', env)).rejects.toThrow("Engine 'gpu' is in use by session(s) busy");
    expect(gpu.callNames()).toEqual([]);
    expect(readEngineRegistry(env).engines).toHaveLength(1);
    local.store.remove('busy');
    expect(await removeEngineAndPools(local, 'gpu', env)).toEqual({
      drained: { containers: 3, pools: 1, unreachable: [] },
    });
    expect(gpu.containers.filter((c) => c.name.startsWith('mino.warm.'))).toEqual([]);
    expect(readEngineRegistry(env).engines).toEqual([]);
    // This machine's pool stays.
    expect(poolStatus(ctx.stateDir, use.settings).pools).toMatchObject([{ engine: null, warm: 1 }]);
    // An engine without pools of this state is not asked at all.
    await addEngine({ name: 'gpu', url: 'unix:///run/gpu.sock', env });
    gpu.clearCalls();
    expect(await removeEngineAndPools(local, 'gpu', env)).toEqual({});
    expect(gpu.callNames()).toEqual([]);
  });

  it("fills with the engine's one CA bundle secret: made once, made again when it went behind mino's back", async () => {
    const CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
    const file = sessionCaBundlePath(ctx.stateDir);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, CERT);
    const local = localPlan({ credentials: { caBundle: file } });
    const plan = planOnEngine(local, 'gpu', 'mino-project-0123456789ab', { caBundleDigest: caBundleDigest(CERT) }).plan;
    const name = plan.spec.secretFiles![0]!.secret;
    const steps = { ...warmSteps(ctx, plan, io), projectVolume: 'mino-project-0123456789ab' };
    await warmPool(ctx, plan, 1, use.settings, io, steps);
    expect(gpu.callsTo('secretCreate').map(([n]) => n)).toEqual([name]);
    // The next fill: no podman secret call (the memo knows it).
    gpu.clearCalls();
    await warmPool(ctx, plan, 2, use.settings, io, steps);
    expect(gpu.callNames().filter((n) => n.startsWith('secret'))).toEqual([]);
    // Removed behind mino's back: the start fails once (podman: no such secret), it is made again, the start retried.
    await gpu.secretRemove(name);
    gpu.clearCalls();
    gpu.on('run', () => {
      gpu.off('run');
      throw new Error(`Error: no secret with name or id "${name}": no such secret`);
    });
    await warmPool(ctx, plan, 3, use.settings, io, steps);
    expect(gpu.callsTo('secretCreate').map(([n]) => n)).toEqual([name]);
    expect(gpu.callsTo('run').filter(([spec]) => spec.name?.startsWith('mino.warm.'))).toHaveLength(2);
    expect((await gpu.secretList({})).map((s) => s.name)).toEqual([name]);
  });

  it('keeps a sync helper of its own running there; the trips of runs of the plan exec into it', async () => {
    const plan = remotePlan();
    const steps = { ...warmSteps(ctx, plan, io), projectVolume: 'mino-project-0123456789ab' };
    await warmPool(ctx, plan, 1, use.settings, io, steps);
    const runs = gpu.callsTo('run').map(([spec]) => spec);
    expect(runs).toHaveLength(2);
    const helper = runs.find((spec) => spec.labels?.['io.mino.sync'] !== undefined)!;
    expect(helper).toMatchObject({
      user: '0:0',
      network: 'none',
      autoRemove: true,
      mounts: [{ source: 'mino-project-0123456789ab', target: '/mino-project' }],
      labels: { 'io.mino.state': ctx.stateKey, 'io.mino.pool': expect.stringMatching(/^[0-9a-f]{24}$/) },
    });
    expect(helper.name).toMatch(/^mino\.warm\./);
    const id = gpu.containers.find((c) => c.name === helper.name)!.id;
    expect(syncHelperOfPlan(ctx.stateDir, remotePlan({ sessionName: 'x' }))).toBe(id);
    // Not for the same run here, nor another engine's.
    expect(syncHelperOfPlan(ctx.stateDir, localPlan())).toBeUndefined();
    expect(syncHelperOfPlan(ctx.stateDir, remotePlan({}, 'build'))).toBeUndefined();
    // Warming again keeps it; a trip through it is a podman exec, marked for the helper's main process.
    gpu.clearCalls();
    await warmPool(ctx, plan, 1, use.settings, io, steps);
    expect(gpu.callNames()).not.toContain('run');
    const target = { runtime: gpu, engine: 'gpu', volume: 'v', image: IMAGE, labels: {}, warmHelper: id };
    // The script says it runs first; only then does it get its input, and its output goes on.
    const got: string[] = [];
    gpu.on('execStreamed', async (_id, _argv, streams) => {
      await streams.onStdout?.(Buffer.from('mino-sync-ready\nout'));
      for await (const chunk of streams.input ?? []) got.push(Buffer.from(chunk).toString());
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    const out: string[] = [];
    const listing = (async function* () {
      yield Buffer.from('#\n');
    })();
    await runHelper(target, 'Listing', 'echo hi', ['a'], {
      input: listing,
      onStdout: (chunk) => void out.push(chunk.toString()),
    });
    expect(got).toEqual(['#\n']);
    expect(out).toEqual(['out']);
    const [execId, argv] = gpu.callsTo('execStreamed')[0]!;
    expect(execId).toBe(id);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv[2]).toMatch(
      /^true 2>\/dev\/null > "\/tmp\/mino-sync\.\$\$" \|\| true\n\[ ! -e \/tmp\/mino-sync-closing \] \|\| \{ echo 'Error: this sync helper is closing' >&2; exit 75; \}\nprintf 'mino-sync-ready\\n'\necho hi$/,
    );
    expect(argv.slice(3)).toEqual(['mino-sync', 'a']);
    expect(gpu.callNames()).not.toContain('runStreamed');
    // A helper that is gone (podman exec fails; the script never says it runs) has taken none of
    // the input: a helper container gets all of it.
    gpu.clearCalls();
    gpu.on('execStreamed', () => ({ stdout: '', stderr: 'Error: no such container', exitCode: 125 }));
    const sent: string[] = [];
    gpu.on('runStreamed', async (_spec, streams) => {
      for await (const chunk of streams.input ?? []) sent.push(Buffer.from(chunk).toString());
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    const input = (async function* () {
      yield Buffer.from('tar');
    })();
    await runHelper(target, 'Shipping', 'cat', [], { input });
    expect(gpu.callNames()).toEqual(['execStreamed', 'runStreamed']);
    expect(sent).toEqual(['tar']);
    // One that went away (the engine restarted) is replaced by the next warm or refill.
    gpu.containers = gpu.containers.filter((c) => c.id !== id);
    gpu.clearCalls();
    await warmPool(ctx, plan, 1, use.settings, io, steps);
    expect(gpu.callsTo('run').map(([spec]) => spec.labels?.['io.mino.sync'])).toEqual(['mino-project-0123456789ab']);
    expect(syncHelperOfPlan(ctx.stateDir, plan)).not.toBe(id);
    // Drained with the pool.
    expect((await drainPool(local, { engine: 'gpu' })).containers).toBe(2);
  });

  /** A contained run on the engine (the remote default): its proxy runs there. */
  const containedPlan = (session: string, rules = ['example.com:443'], engine = 'gpu'): RunPlan =>
    remotePlan(
      {
        sessionName: session,
        network: 'allowlist',
        egress: buildEgressPlan({
          mode: 'allowlist',
          rules: parseRules(rules),
          presets: [],
          paths: egressPaths(join(root, 'egress'), ctx.stateKey, session),
          systemHooksDirs: [],
        }),
      },
      engine,
    );

  /** The engine's proxies say they listen, and print `out` (a claimed one's network and record). */
  const proxiesAnswer = (out = () => ''): void => {
    gpu.addImage(REMOTE_TEST_IMAGE.tag);
    gpu.on('logs', () => ({ stdout: `ready 10.89.7.2:3128\n${out()}`, stderr: '' }));
  };

  it('keys a contained run on the engine by its mode, not its rules nor its session network', () => {
    const keyOf = (plan: RunPlan): string => {
      const p = poolabilityOf(plan);
      if (!p.poolable) throw new Error(p.reason);
      return p.key;
    };
    const one = containedPlan('one');
    expect(one.spec.network).toBe(remoteEgressNames(ctx.stateKey, 'one').network);
    expect(keyOf(one)).toBe(keyOf(containedPlan('two', ['other.example:80'])));
    expect(keyOf(one)).not.toBe(keyOf(remotePlan()));
    expect(keyOf(one)).not.toBe(keyOf(containedPlan('one', [], 'build')));
    // A terminating one is kept warm too (the pool's CA: remote-warm-tls.ts), keyed apart.
    const tls = { ...one, credentials: { ...one.credentials, sessionCa: true } } as RunPlan;
    expect(keyOf(tls)).not.toBe(keyOf(one));
  });

  it('warms a contained plan there: each warm container with a proxy allowing nothing and a network of its own', async () => {
    proxiesAnswer();
    const plan = containedPlan('one');
    expect(await warmPool(ctx, plan, 2, use.settings, io, warmSteps(ctx, plan, io))).toBe(0);
    const key = (poolabilityOf(plan) as { key: string }).key;
    const runs = gpu.callsTo('run').map(([spec]) => spec);
    const proxies = runs.filter((spec) => spec.labels?.['io.mino.remote-egress-warm'] === key);
    const warm = runs.filter((spec) => spec.name?.startsWith('mino.warm.'));
    expect(proxies).toHaveLength(2);
    expect(warm).toHaveLength(2);
    for (const w of warm) {
      const names = remoteEgressNames(ctx.stateKey, w.name!);
      expect(w.network).toBe(names.network);
      expect(w.env?.HTTPS_PROXY).toBe('http://10.89.7.2:3128');
      expect(w.sysctls).toContain('net.ipv6.conf.all.disable_ipv6=1');
      const proxy = proxies.find((p) => p.name === names.container)!;
      const launch = parseRemoteProxyLaunch(proxy.env?.MINO_EGRESS_LAUNCH ?? '');
      expect(launch).toMatchObject({
        session: w.name,
        policy: { mode: 'allowlist', allow: [], deny: [] },
        warm: { network: names.network, ttlSeconds: use.settings.warmTtlSeconds },
      });
      expect(launch.secrets).toBeUndefined();
      expect(gpu.networks).toContain(names.network);
    }
    expect(here.callNames()).toEqual([]);
  });

  it("a claim renames the proxy to the session's, hands it the policy on stdin, and the end removes both networks", async () => {
    let out = '';
    proxiesAnswer(() => out);
    const plan = containedPlan('one');
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    const warmName = gpu.containers.find((c) => c.name.startsWith('mino.warm.'))!.name;
    const warmNet = remoteEgressNames(ctx.stateKey, warmName);
    const session = remoteEgressNames(ctx.stateKey, 'first');
    const run = containedPlan('first', ['api.example:443']);
    expect(poolVerdict(ctx.stateDir, run, use).message).toMatch(
      /a warm container would serve this run .* on engine gpu/,
    );
    const sent: string[] = [];
    gpu.on('execStreamed', async (_id, _argv, streams) => {
      for await (const chunk of streams.input ?? []) sent.push(Buffer.from(chunk).toString());
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    gpu.on('execSession', guardedExec(0, 'ok\n'));
    const record = { ...newNetworkRecord('first', 'allowlist', run.network.egress!.policy, []), ended_at: 'x' };
    out = `network ${warmNet.network}\nrecord ${JSON.stringify(record)}\n`;
    gpu.clearCalls();
    const got = await executeWithPool(ctx, run, use);
    expect(got).toMatchObject({ kind: 'exited', exitCode: 0, network: { session: 'first' } });
    expect(gpu.callsTo('renameContainer')[0]).toEqual([warmNet.container, session.container]);
    expect(gpu.callsTo('execStreamed')[0]![0]).toBe(session.container);
    expect(JSON.parse(sent.join(''))).toEqual({
      op: 'claim',
      session: 'first',
      policy: { mode: 'allowlist', allow: ['api.example:443'], deny: [] },
      presets: [],
    });
    // The claim before the command; the proxy's end after it: its record kept here, both networks gone.
    const names = gpu.callNames();
    expect(names.indexOf('execStreamed')).toBeLessThan(names.indexOf('execSession'));
    expect(gpu.callsTo('networkRemove').map(([n]) => n)).toEqual([warmNet.network, session.network]);
    expect(readNetworkRecord(ctx.stateDir, 'first')?.session).toBe('first');
    expect(here.callNames()).toEqual([]);
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_hits: 1 });
  });

  it('a warm proxy that refuses the claim is removed with its network; the run starts cold with a proxy of its own', async () => {
    proxiesAnswer();
    const plan = containedPlan('one');
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    const warmName = gpu.containers.find((c) => c.name.startsWith('mino.warm.'))!.name;
    gpu.on('execStreamed', () => ({ stdout: '{"ok":false,"error":"no"}\n', stderr: '', exitCode: 1 }));
    const run = containedPlan('cold');
    const coldPlan = { ...run, network: { mode: run.network.mode }, spec: { ...run.spec, env: {} } } as RunPlan;
    const ended: string[] = [];
    gpu.clearCalls();
    const got = await executeWithPool(ctx, run, {
      ...use,
      coldOnEngine: async () => ({
        plan: coldPlan,
        end: async () => {
          ended.push('end');
          return undefined;
        },
        abort: async () => undefined,
      }),
    });
    expect(got).toEqual({ kind: 'exited', exitCode: 0 });
    expect(ended).toEqual(['end']);
    expect(gpu.callsTo('networkRemove').map(([n]) => n)).toContain(remoteEgressNames(ctx.stateKey, warmName).network);
    expect(gpu.callsTo('runAttached').map(([spec]) => spec.name)).toEqual([coldPlan.spec.name]);
    expect(gpu.callNames()).not.toContain('execSession');
    expect(readCounters(ctx.stateDir)).toMatchObject({ pool_misses: 1 });
  });

  it("keeps a terminating plan warm there: the pool CA's bundle secret, its key to the proxy before it listens, the credentials at the claim", async () => {
    proxiesAnswer();
    const rule = {
      variable: 'API_TOKEN',
      hosts: ['api.example'],
      header: 'authorization',
      prefix: 'Bearer ',
      placeholder: 'mino-proxy-managed-api_token-0123456789abcdef',
    };
    const tlsPlan = (session: string): RunPlan =>
      remotePlan({
        sessionName: session,
        network: 'allowlist',
        egress: buildEgressPlan({
          mode: 'allowlist',
          rules: parseRules(['api.example:443']),
          presets: [],
          paths: egressPaths(join(root, 'egress'), ctx.stateKey, session),
          systemHooksDirs: [],
        }),
        credentials: { caBundle: join(root, 'ca', `${session}.crt`), sessionCa: true, proxy: [rule] },
      });
    const sent: string[] = [];
    gpu.on('execStreamed', async (_id, _argv, streams) => {
      for await (const chunk of streams.input ?? []) sent.push(Buffer.from(chunk).toString());
      return { stdout: '', stderr: '', exitCode: 0 };
    });
    const plan = tlsPlan('one');
    expect(await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io))).toBe(0);
    const key = (poolabilityOf(plan) as { key: string }).key;
    const warm = gpu.callsTo('run').find(([spec]) => spec.name?.startsWith('mino.warm.'))![0];
    const bundle = warm.secretFiles!.map((f) => f.secret);
    expect(bundle).toHaveLength(2);
    expect(new Set(bundle).size).toBe(1);
    expect(bundle[0]).toMatch(new RegExp(`^mino-ca-${ctx.stateKey}\\.[0-9a-f]{16}$`));
    // The pool CA before the proxy listens (its key on stdin only), no credential yet.
    const given = JSON.parse(sent[0]!) as { op: string; secrets: EgressSecrets };
    expect(given.op).toBe('secrets');
    expect(given.secrets.ca?.keyPem).toContain('PRIVATE KEY');
    expect(given.secrets.credentials).toEqual([]);
    // The bundle on the engine: public, the pool CA's certificate in it; its key here, 0600.
    const onEngine = (gpu as unknown as { secrets: Map<string, { value: string }> }).secrets.get(bundle[0]!)!.value;
    expect(onEngine).toContain(given.secrets.ca!.certPem.trim());
    expect(onEngine).not.toContain('PRIVATE KEY');
    expect(statSync(join(ctx.stateDir, 'pool', key, 'remote-ca.json')).mode & 0o777).toBe(0o600);
    // A run of the same plan is served warm; the claim carries the policy and the credentials, in one request.
    const run = tlsPlan('first');
    expect(poolVerdict(ctx.stateDir, run, use).kind).toBe('warm');
    sent.length = 0;
    gpu.on('execSession', guardedExec(0, 'ok\n'));
    const credentials = [{ ...rule, value: 'sk-REAL', add: false }];
    const got = await executeWithPool(ctx, run, { ...use, credentials });
    expect(got).toMatchObject({ kind: 'exited', exitCode: 0 });
    expect(JSON.parse(sent[0]!)).toMatchObject({
      op: 'claim',
      session: 'first',
      policy: { mode: 'allowlist', allow: ['api.example:443'] },
      credentials: [{ placeholder: rule.placeholder, value: 'sk-REAL' }],
    });
    // The command gets the placeholder, never the value.
    const [, argv, options] = gpu.callsTo('execSession')[0]!;
    const seen = JSON.stringify([argv, options.env]);
    expect(seen).toContain(rule.placeholder);
    expect(seen).not.toContain('sk-REAL');
    // Drain removes the pool's bundle secret and its CA.
    await drainPool(local, { engine: 'gpu' });
    expect(await gpu.secretList({})).toEqual([]);
  });

  it('a claimed warm container that vanished leaves no proxy or warm network: both go before the cold start', async () => {
    let out = '';
    proxiesAnswer(() => out);
    const plan = containedPlan('one');
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    const warmName = gpu.containers.find((c) => c.name.startsWith('mino.warm.'))!.name;
    const warmNet = remoteEgressNames(ctx.stateKey, warmName);
    // A warm proxy names its network first (network/remote-proxy-protocol.ts).
    out = `network ${warmNet.network}\n`;
    const session = remoteEgressNames(ctx.stateKey, 'gone');
    gpu.on('execStreamed', () => ({ stdout: '', stderr: '', exitCode: 0 }));
    // Removed behind mino's back (its proxy still there, and claimed): podman exec says 125.
    gpu.containers = gpu.containers.filter((c) => c.name !== warmName);
    gpu.on('execSession', () => 125);
    const run = containedPlan('gone');
    const coldPlan = { ...run, network: { mode: run.network.mode }, spec: { ...run.spec, env: {} } } as RunPlan;
    let proxiesAtColdStart: string[] = [];
    gpu.clearCalls();
    const got = await executeWithPool(ctx, run, {
      ...use,
      coldOnEngine: async () => {
        proxiesAtColdStart = gpu.containers.map((c) => c.name).filter((n) => n.startsWith('mino-egress'));
        return { plan: coldPlan, end: async () => undefined, abort: async () => undefined };
      },
    });
    expect(got).toEqual({ kind: 'exited', exitCode: 0 });
    expect(gpu.callsTo('renameContainer')[0]).toEqual([warmNet.container, session.container]);
    expect(gpu.callsTo('networkRemove').map(([n]) => n)).toContain(warmNet.network);
    expect(proxiesAtColdStart).toEqual([]);
    expect(gpu.networks).not.toContain(warmNet.network);
  });

  it('the next fill removes warm proxies whose time ran out unclaimed, with their networks', async () => {
    proxiesAnswer();
    const plan = containedPlan('one');
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    const warmName = gpu.containers.find((c) => c.name.startsWith('mino.warm.'))!.name;
    const old = remoteEgressNames(ctx.stateKey, warmName);
    // Its time is up: the warm container went (--rm), its proxy ended.
    gpu.containers = gpu.containers.filter((c) => c.name !== warmName);
    Object.assign(gpu.containers.find((c) => c.name === old.container)!, { state: 'exited', exitCode: 0 });
    gpu.clearCalls();
    await warmPool(ctx, plan, 1, use.settings, io, warmSteps(ctx, plan, io));
    expect(gpu.callsTo('networkRemove').map(([n]) => n)).toEqual([old.network]);
    expect(gpu.containers.some((c) => c.name === old.container)).toBe(false);
  });

  it('drain removes the unclaimed warm proxies and their networks, never a claimed one', async () => {
    proxiesAnswer();
    const plan = containedPlan('one');
    await warmPool(ctx, plan, 2, use.settings, io, warmSteps(ctx, plan, io));
    const warmNames = gpu.containers.filter((c) => c.name.startsWith('mino.warm.')).map((c) => c.name);
    // One was claimed by a session (its proxy renamed to the session's).
    const claimed = remoteEgressNames(ctx.stateKey, warmNames[0]!);
    await gpu.renameContainer(claimed.container, remoteEgressNames(ctx.stateKey, 'busy').container);
    gpu.clearCalls();
    expect(await drainPool(local, { engine: 'gpu' })).toMatchObject({ containers: 2, pools: 1 });
    const other = remoteEgressNames(ctx.stateKey, warmNames[1]!);
    expect(gpu.callsTo('networkRemove').map(([n]) => n)).toEqual([other.network]);
    expect(gpu.containers.map((c) => c.name)).toEqual([remoteEgressNames(ctx.stateKey, 'busy').container]);
  });
});
