// Warm-start figures of `npm run bench` (also alone: node bench/warm.mjs > warm.json): a pooled
// `mino run -- true` served by the warm agent against a cold one (--fresh) and `node -e 0`,
// rootful on mino-base and rootless; `mino exec` against `podman exec` of the same container;
// the cold overhead over raw podman with the same flags in units of `node -e 0`; start-up alone
// (`mino run --help`, bin/mino and the single executable, against `node -e 0`); and bursts of
// concurrent runs, cold and from a pool as large as the burst. p50 and p99 of >= 30 runs each
// (BENCH_WARM_RUNS), interleaved, each run on a quiet machine (the previous run's refill done).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostFacts, podmanArgvOfDryRun, round, timeAndCpuOnce } from './lib.mjs';
import { minoLikeImage, NODE_SHIM_FLAGS, settle, sh, userOf } from './pool.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;
const BASE = 'localhost/mino-base:latest';

/** Nearest-rank percentile. */
function pct(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function stats(name, xs, cpus = []) {
  const cpu = cpus.filter((c) => c !== undefined);
  return {
    name,
    p50_ms: round(pct(xs, 0.5)),
    p99_ms: round(pct(xs, 0.99)),
    runs: xs.length,
    // CPU time (user + system) of the process and the children it waited for: for mino without
    // the container's side (podman's, or nothing through the agent) and the detached refill.
    ...(cpu.length > 0 ? { cpu_p50_ms: round(pct(cpu, 0.5)) } : {}),
  };
}

/** Interleaved timings (a, b, c, a, b, c …) after `warmup` rounds; `before()` runs untimed before each. */
function timed(commands, { runs, warmup }) {
  const samples = commands.map(() => []);
  const cpus = commands.map(() => []);
  for (let i = 0; i < warmup + runs; i++) {
    commands.forEach((c, j) => {
      c.before?.();
      const t = timeAndCpuOnce(c.argv(), c);
      if (i >= warmup) {
        samples[j].push(t.wall);
        cpus[j].push(t.cpu);
      }
    });
  }
  return commands.map((c, j) => stats(c.name, samples[j], cpus[j]));
}

/** Removes a bench directory; a background refill still writing there must not lose the figures. */
function removeDir(dir) {
  for (let i = 0; i < 5; i++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch {
      spawnSync('sleep', ['1']);
    }
  }
}

/** A bench state for one mode: user, directories, config, mino argv. */
function benchRoot(mode, repo, pool) {
  const root = mkdtempSync(join(tmpdir(), `mino-bench-warm-${mode}-`));
  chmodSync(root, 0o755);
  const user = userOf(mode, root);
  if (!user) {
    removeDir(root);
    return undefined;
  }
  const project = join(root, 'project');
  for (const d of ['state', 'config/mino', 'data', 'project']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'config', 'mino', 'config.toml'), `[pool]\nwarm_ttl = 900\nmax_warm = ${pool}\n`);
  spawnSync('chown', ['-R', `${user.uid}:${user.uid}`, root]);
  return { root, user, project, mino: [process.execPath, join(repo, 'bin', 'mino')] };
}

/** Waits until the first warm container's agent listens (the dry run says the run goes through it). */
function agentReady(b, flags) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const dry = sh(b.user, [...b.mino, 'run', '--dry-run', ...flags, '--', 'true']);
    if (dry.includes('through its agent')) return;
    if (Date.now() > deadline) throw new Error(`no warm agent: ${dry.trim().split('\n').pop()}`);
    spawnSync('sleep', ['0.2']);
  }
}

function imageFor(mode, b, repo) {
  if (mode === 'rootful') {
    if (spawnSync('podman', ['image', 'exists', BASE]).status !== 0) return undefined;
    return { image: BASE, extra: [], built: false };
  }
  const image = minoLikeImage(b.user, repo, { tag: 'localhost/mino-composed-be0c1000a9e7:latest', nodeShim: true });
  return { image, extra: NODE_SHIM_FLAGS, built: true };
}

function cleanup(b, image) {
  try {
    sh(b.user, [...b.mino, 'pool', 'drain']);
  } catch {
    // reported by the figures, if anything
  }
  if (image?.built)
    spawnSync(b.user.prefix[0] ?? 'podman', [...b.user.prefix.slice(1), 'podman', 'rmi', '-f', image.image]);
  removeDir(b.root);
}

/** Pooled (agent) vs cold vs node -e 0, in one mode. */
export function warmVsCold(mode, { repo, runs, warmup }) {
  const b = benchRoot(mode, repo, 10);
  if (!b) return { skipped: 'no rootless user' };
  let image;
  try {
    image = imageFor(mode, b, repo);
    if (!image) return { skipped: 'mino-base is not built (mino setup)' };
    const flags = ['-p', b.project, '--network', 'none', '--no-home', '--image', image.image, ...image.extra];
    sh(b.user, [...b.mino, 'pool', 'warm', '-n', '2', ...flags]);
    let n = 0;
    const [pooled, cold, node] = timed(
      [
        {
          name: `mino run (warm, agent) -- true [${mode}]`,
          before: () => {
            settle(b.user, b.mino, 2);
            agentReady(b, flags);
          },
          argv: () => [...b.user.prefix, ...b.mino, 'run', '-n', `bw-${++n}`, ...flags, '--', 'true'],
          env: b.user.env,
        },
        {
          name: `mino run --fresh -- true [${mode}]`,
          before: () => settle(b.user, b.mino, 2),
          argv: () => [...b.user.prefix, ...b.mino, 'run', '-n', `bc-${++n}`, '--fresh', ...flags, '--', 'true'],
          env: b.user.env,
        },
        { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
      ],
      { runs, warmup },
    );
    const counters = JSON.parse(sh(b.user, ['cat', join(b.root, 'state', 'mino', 'sandbox-counters.json')]));
    return {
      image: image.image,
      pooled,
      cold,
      node,
      ratio_p50: ratio(pooled.p50_ms, cold.p50_ms),
      ratio_p99: ratio(pooled.p99_ms, cold.p99_ms),
      pooled_vs_node_p50: ratio(pooled.p50_ms, node.p50_ms),
      pool_hits: counters.pool_hits,
      target_ratio: 0.3,
    };
  } finally {
    cleanup(b, image);
  }
}

/**
 * `mino exec S -- true` vs `podman exec C true` of the same running session (rootful,
 * mino-base): S a pooled session (served by its warm agent) and D a detached cold one (podman exec).
 */
export async function execVsPodman({ repo, runs, warmup }) {
  const b = benchRoot('rootful', repo, 10);
  let session;
  try {
    if (spawnSync('podman', ['image', 'exists', BASE]).status !== 0) return { skipped: 'mino-base is not built' };
    const flags = ['-p', b.project, '--network', 'none', '--no-home'];
    sh(b.user, [...b.mino, 'pool', 'warm', '-n', '1', ...flags]);
    settle(b.user, b.mino, 1);
    agentReady(b, flags);
    session = spawn(b.mino[0], [...b.mino.slice(1), 'run', '-n', 'bench-exec', ...flags, '--', 'sleep', '900'], {
      env: b.user.env,
      stdio: 'ignore',
    });
    sh(b.user, [...b.mino, 'run', '-d', '-n', 'bench-exec-cold', '--fresh', ...flags, '--', 'sleep', '900']);
    // The pooled session's container takes the session's name after 300 ms.
    for (let i = 0; spawnSync('podman', ['container', 'exists', 'mino-bench-exec']).status !== 0; i++) {
      if (i > 100) throw new Error('the pooled session did not start');
      spawnSync('sleep', ['0.1']);
    }
    const [agent, podman, cold, podmanCold, node] = timed(
      [
        {
          name: 'mino exec (pooled session, agent) -- true',
          argv: () => [...b.mino, 'exec', 'bench-exec', '--', 'true'],
          env: b.user.env,
        },
        { name: 'podman exec (same container) true', argv: () => ['podman', 'exec', 'mino-bench-exec', 'true'] },
        {
          name: 'mino exec (detached cold session) -- true',
          argv: () => [...b.mino, 'exec', 'bench-exec-cold', '--', 'true'],
          env: b.user.env,
        },
        { name: 'podman exec (same container) true', argv: () => ['podman', 'exec', 'mino-bench-exec-cold', 'true'] },
        { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
      ],
      { runs, warmup },
    );
    return {
      agent: { mino: agent, podman, ratio_p50: ratio(agent.p50_ms, podman.p50_ms) },
      podman_path: { mino: cold, podman: podmanCold, ratio_p50: ratio(cold.p50_ms, podmanCold.p50_ms) },
      node,
      target_ratio: 0.9,
    };
  } finally {
    session?.kill('SIGTERM');
    try {
      sh(b.user, [...b.mino, 'stop', 'bench-exec-cold']);
    } catch {
      // removed below
    }
    spawnSync('podman', ['rm', '-f', '-t', '0', 'mino-bench-exec', 'mino-bench-exec-cold']);
    cleanup(b);
  }
}

/** Raw podman argv equal to what mino runs (from --dry-run), a fresh name per call. */
function rawPodman(b, flags) {
  return podmanArgvOfDryRun(sh(b.user, [...b.mino, 'run', '--dry-run', ...flags, '--', '/usr/bin/true']).split('\n'));
}

/** Cold `mino run --fresh` vs the same raw `podman run` vs node -e 0 (rootful, the probe image). */
export function coldOverhead({ repo, runs, warmup }) {
  const b = benchRoot('rootful', repo, 10);
  try {
    const image = 'localhost/mino-probe:1';
    if (spawnSync('podman', ['image', 'exists', image]).status !== 0)
      return { skipped: `${image} is missing (mino setup)` };
    // Every protected path exists: no stand-ins, so raw podman can reuse mino's flags.
    for (const d of ['.claude/agents', '.claude/commands', '.claude/hooks', '.devcontainer', '.idea', '.vscode'])
      mkdirSync(join(b.project, d), { recursive: true });
    for (const f of ['.envrc', '.gitmodules', '.mcp.json', '.claude/settings.json'])
      writeFileSync(join(b.project, f), f.endsWith('json') ? '{}' : '');
    const out = {};
    for (const network of ['none', 'bridge']) {
      const flags = ['-p', b.project, '--network', network, '--image', image];
      const raw = rawPodman(b, flags);
      let n = 0;
      const [mino, podman, node] = timed(
        [
          {
            name: `mino run --network ${network} -- true`,
            argv: () => [...b.mino, 'run', '-n', `bo-${++n}`, ...flags, '--', '/usr/bin/true'],
            env: b.user.env,
          },
          { name: `podman run (same flags, ${network})`, argv: raw, env: b.user.env },
          { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
        ],
        { runs, warmup },
      );
      out[network] = {
        mino,
        podman,
        node,
        overhead_ms: round(mino.p50_ms - podman.p50_ms),
        overhead_vs_node: ratio(mino.p50_ms - podman.p50_ms, node.p50_ms),
        target: 1.3,
      };
    }
    return out;
  } finally {
    removeDir(b.root);
  }
}

/**
 * Start-up alone: `mino run --help` (Node, the bundle with its code cache, commander, the run
 * command's modules; no podman, no state) by bin/mino and by the single executable, against
 * `node -e 0`. The code cache is made by the warm-up rounds.
 */
export function startup({ repo, runs, warmup }) {
  const b = benchRoot('rootful', repo, 10);
  try {
    const binary = join(repo, 'dist', 'mino');
    const env = { ...b.user.env, XDG_CACHE_HOME: join(b.root, 'cache') };
    const cases = [
      { name: 'bin/mino run --help', argv: () => [...b.mino, 'run', '--help'], env },
      ...(spawnSync(binary, ['--version']).status === 0
        ? [{ name: 'dist/mino run --help', argv: () => [binary, 'run', '--help'], env }]
        : []),
      { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
    ];
    const measured = timed(cases, { runs, warmup });
    const node = measured[measured.length - 1];
    return Object.fromEntries(
      measured.map((m) => [
        m.name,
        { ...m, over_node_p50_ms: round(m.p50_ms - node.p50_ms), vs_node_p50: ratio(m.p50_ms, node.p50_ms) },
      ]),
    );
  } finally {
    removeDir(b.root);
  }
}

/** Starts `argv` and resolves with its wall time, exit code and stdout. */
function timedChild(argv, env) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) =>
      resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, out: out.trim(), err: err.slice(-300) }),
    );
  });
}

async function burst(b, argvOf, size) {
  const start = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: size }, (_, i) => timedChild(argvOf(i), b.user.env)));
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const ms = results.map((r) => r.ms);
  const hosts = results.map((r) => r.out);
  return {
    ok: results.filter((r) => r.code === 0).length,
    failed: results.filter((r) => r.code !== 0).map((r) => r.err),
    wall_ms: round(wall),
    p50_ms: round(pct(ms, 0.5)),
    p99_ms: round(pct(ms, 0.99)),
    slowest_vs_p50: ratio(Math.max(...ms), pct(ms, 0.5)),
    distinct_containers: new Set(hosts).size,
  };
}

/** `size` concurrent `mino run -- hostname` cold, then from a pool of `size` warm (rootful, mino-base). */
export async function bursts({ repo, size }) {
  const b = benchRoot('rootful', repo, size + 2);
  try {
    if (spawnSync('podman', ['image', 'exists', BASE]).status !== 0) return { skipped: 'mino-base is not built' };
    const flags = ['-p', b.project, '--network', 'none', '--no-home'];
    const cmd = ['--', 'cat', '/proc/sys/kernel/hostname'];
    const cold = await burst(b, (i) => [...b.mino, 'run', '-n', `burst-cold-${i}`, '--fresh', ...flags, ...cmd], size);
    sh(b.user, [...b.mino, 'pool', 'warm', '-n', String(size), ...flags]);
    settle(b.user, b.mino, size);
    agentReady(b, flags);
    spawnSync('sleep', ['3']); // every agent listening, the machine quiet
    const load = loadAverage();
    const pooled = await burst(b, (i) => [...b.mino, 'run', '-n', `burst-warm-${i}`, ...flags, ...cmd], size);
    const counters = JSON.parse(readFileSync(join(b.root, 'state', 'mino', 'sandbox-counters.json'), 'utf8'));
    // What the CPU alone allows: mino's own CPU per pooled run (one at a time, after the burst's
    // refill) times the burst, spread over every core.
    settle(b.user, b.mino, 1);
    agentReady(b, flags);
    const cpu = [];
    for (let i = 0; i < 5; i++) {
      settle(b.user, b.mino, 1);
      cpu.push(
        timeAndCpuOnce([...b.user.prefix, ...b.mino, 'run', '-n', `burst-cpu-${i}`, ...flags, '--', 'true'], b.user)
          .cpu,
      );
    }
    const cpuPerRun = pct(cpu, 0.5);
    const cores = availableParallelism();
    return {
      size,
      load_average_before: load,
      cold,
      pooled: { ...pooled, pool_hits: counters.pool_hits },
      cpu_floor: {
        mino_cpu_per_pooled_run_ms: round(cpuPerRun),
        cores,
        wall_floor_ms: round((cpuPerRun * size) / cores),
      },
      targets: { wall_ms: 3000, slowest_vs_p50: 2 },
    };
  } finally {
    cleanup(b);
  }
}

/** The 1-minute load average (other work on the machine skews a burst most). */
function loadAverage() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** All warm-start figures. */
export async function warmBench({ repo, runs, warmup }) {
  const r = Math.max(30, runs);
  const engine = spawnSync('podman', ['version', '--format', '{{.Client.Version}}'], {
    encoding: 'utf8',
  }).stdout.trim();
  return {
    date: new Date().toISOString(),
    engine: `podman ${engine}`,
    startup: startup({ repo, runs: r, warmup }),
    pool_agent_rootful: warmVsCold('rootful', { repo, runs: r, warmup }),
    pool_agent_rootless:
      process.getuid?.() === 0 ? warmVsCold('rootless', { repo, runs: r, warmup }) : { skipped: 'run as root' },
    exec: await execVsPodman({ repo, runs: r, warmup }),
    cold_overhead: coldOverhead({ repo, runs: r, warmup }),
    burst: await bursts({ repo, size: Number(process.env.BENCH_BURST ?? 32) }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const only = process.env.BENCH_WARM_ONLY;
  const opts = { repo, runs: Number(process.env.BENCH_WARM_RUNS ?? 30), warmup: 2 };
  const parts = {
    startup: () => startup(opts),
    agent_rootful: () => warmVsCold('rootful', opts),
    agent_rootless: () => warmVsCold('rootless', opts),
    exec: () => execVsPodman(opts),
    cold: () => coldOverhead(opts),
    burst: () => bursts({ repo, size: Number(process.env.BENCH_BURST ?? 32) }),
  };
  const out = only ? { date: new Date().toISOString(), [only]: await parts[only]() } : await warmBench(opts);
  process.stdout.write(`${JSON.stringify({ host: hostFacts(), ...out }, null, 2)}\n`);
}
