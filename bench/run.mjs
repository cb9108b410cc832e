#!/usr/bin/env node
// `npm run bench`: mino's overhead against raw podman and Node's own start-up, for bin/mino and
// for the single executable dist/mino (built first by `npm run bench`; its size is reported too).
// Prints JSON on stdout and a table on stderr. Needs a working engine (`mino setup`), which
// also provides the tiny image used here (localhost/mino-probe:1, built from the host's `true`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, hostFacts, interleaved, podmanArgvOfDryRun, round } from './lib.mjs';
import { networkBench, networkRows } from './network.mjs';
import { tlsBench, tlsRows } from './tls.mjs';
import { proxyMicroBench } from './proxy-micro.mjs';
import { proxyFloorBench } from './proxy-floor.mjs';
import { credentialsPair, removeLoginsVolume } from './credentials.mjs';
import { pooledVsCold, poolStatusMany } from './pool.mjs';
import { warmBench } from './warm.mjs';
import { containedBench } from './contained.mjs';
import { branchBench } from './branch.mjs';
import { remoteBench } from './remote.mjs';
import { remoteCredBench } from './remote-cred.mjs';

/** a / b to two decimals. */
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
/** Ratio of the mean CPU times of two results (steadier than wall time on a busy machine). */
const cpuRatio = (a, b) => (a.cpu_mean_ms === undefined ? undefined : ratio(a.cpu_mean_ms, b.cpu_mean_ms));

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const mino = join(repo, 'bin', 'mino');
// The single executable (`npm run package`; `npm run bench` builds it).
const binary = join(repo, 'dist', 'mino');
if (!existsSync(binary)) throw new Error('dist/mino is missing: run `npm run package` (npm run bench does)');
const IMAGE = 'localhost/mino-probe:1';
const runs = Number(process.env.BENCH_RUNS ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);

const root = mkdtempSync(join(tmpdir(), 'mino-bench-'));
const project = join(root, 'project');
mkdirSync(project);
// mino binds its protected paths read-only and makes a stand-in for each absent one, only for the
// session; the raw podman baseline reuses mino's flags, so the project has them all already.
for (const dir of ['.claude/agents', '.claude/commands', '.claude/hooks', '.devcontainer', '.idea', '.vscode'])
  mkdirSync(join(project, dir), { recursive: true });
for (const [file, text] of [
  ['.envrc', ''],
  ['.gitmodules', ''],
  ['.mcp.json', '{}'],
  ['.claude/settings.json', '{}'],
])
  writeFileSync(join(project, file), text);
const env = benchEnv(root);
if (process.getuid?.() !== 0) {
  // Rootless podman keeps images under XDG_DATA_HOME: keep it on the user's real storage.
  const info = spawnSync(
    'podman',
    ['info', '--format', '{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.GraphDriverName}}'],
    { encoding: 'utf8' },
  )
    .stdout.trim()
    .split('|');
  const conf = join(root, 'storage.conf');
  writeFileSync(
    conf,
    `[storage]\ndriver = "${info[2]}"\ngraphroot = "${info[0]}"\nrootless_storage_path = "${info[0]}"\nrunroot = "${info[1]}"\n`,
  );
  env.CONTAINERS_STORAGE_CONF = conf;
}

function check(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

check(['podman', 'image', 'exists', IMAGE]);

/** Raw podman argv equal to what mino runs, from `mino run --dry-run`, with a fresh name per call. */
function rawPodman(network) {
  const dry = check([
    process.execPath,
    mino,
    'run',
    '--dry-run',
    '--image',
    IMAGE,
    '-p',
    project,
    '--network',
    network,
    '--',
    '/usr/bin/true',
  ]).split('\n');
  const stub = dry.find((l) => l.includes('(absent: created for the session)'));
  if (stub) throw new Error(`the bench project lacks a protected path mino would create: ${stub}`);
  return podmanArgvOfDryRun(dry);
}

/** bin/mino run, dist/mino run and the same raw podman run, interleaved. */
function runPair(network) {
  const raw = rawPodman(network);
  let n = 0;
  const args = () => {
    n++;
    return [
      'run',
      '-n',
      `bench-${network}-${n}`,
      '--image',
      IMAGE,
      '-p',
      project,
      '--network',
      network,
      '--',
      '/usr/bin/true',
    ];
  };
  const results = interleaved(
    [
      {
        name: `mino run --network ${network} -- true`,
        get argv() {
          return [process.execPath, mino, ...args()];
        },
        env,
      },
      {
        name: `dist/mino run --network ${network} -- true`,
        get argv() {
          return [binary, ...args()];
        },
        env,
      },
      {
        name: `podman run (same flags, ${network})`,
        get argv() {
          return raw();
        },
        env,
      },
    ],
    { runs, warmup },
  );
  const [launcher, sea, podman] = results;
  return {
    mino: launcher,
    binary: sea,
    podman,
    ratio: ratio(launcher.median_ms, podman.median_ms),
    overhead_ms: round(launcher.median_ms - podman.median_ms),
    binary_ratio: ratio(sea.median_ms, podman.median_ms),
    binary_overhead_ms: round(sea.median_ms - podman.median_ms),
  };
}

/**
 * A composed-image cache hit (`--layers typescript`: one `podman images` call finds the base ID
 * and the composed tag) against the same run naming the composed tag with `--image`.
 * Undefined when mino-base is not built (`mino setup`).
 */
function composedPair() {
  if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest'], { env }).status !== 0) return undefined;
  const layerRun = [
    process.execPath,
    mino,
    'run',
    '--layers',
    'typescript',
    '-p',
    project,
    '--network',
    'none',
    '--',
    'true',
  ];
  check(layerRun); // builds the composed image when missing
  const dry = check([
    process.execPath,
    mino,
    'run',
    '--dry-run',
    '--layers',
    'typescript',
    '-p',
    project,
    '--network',
    'none',
    '--',
    'true',
  ]);
  const tag = /localhost\/mino-composed-[0-9a-f]{12}:latest/.exec(dry)?.[0];
  if (!tag) throw new Error(`no composed tag in: ${dry}`);
  let n = 0;
  const results = interleaved(
    [
      {
        name: 'mino run --layers typescript -- true',
        get argv() {
          n++;
          return [...layerRun.slice(0, 3), '-n', `bench-layers-${n}`, ...layerRun.slice(3)];
        },
        env,
      },
      {
        name: `mino run --image ${tag} -- true`,
        get argv() {
          n++;
          return [
            process.execPath,
            mino,
            'run',
            '-n',
            `bench-image-${n}`,
            '--image',
            tag,
            '-p',
            project,
            '--network',
            'none',
            '--',
            'true',
          ];
        },
        env,
      },
    ],
    { runs, warmup },
  );
  return {
    layers: results[0],
    image: results[1],
    ratio: ratio(results[0].median_ms, results[1].median_ms),
    overhead_ms: round(results[0].median_ms - results[1].median_ms),
  };
}

/** `mino cache list` with `count` cache volumes (created here, labelled io.mino.bench, removed after). */
function cacheListMany(count) {
  const names = [];
  try {
    for (let i = 0; i < count; i++) {
      const hash = (0xb0000000000 + i).toString(16).padStart(12, '0');
      const name = `mino-cache-npm-${hash}`;
      check([
        'podman',
        'volume',
        'create',
        '--label',
        'io.mino.bench=true',
        '--label',
        'io.mino.cache=true',
        '--label',
        'io.mino.cache.ecosystem=npm',
        '--label',
        `io.mino.cache.hash=${hash}`,
        '--label',
        `io.mino.cache.created_at=${new Date().toISOString()}`,
        name,
      ]);
      names.push(name);
    }
    const [list, node] = interleaved(
      [
        {
          name: `mino cache list -f json (${count} cache volumes)`,
          argv: [process.execPath, mino, 'cache', 'list', '-f', 'json'],
          env,
        },
        { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
      ],
      { runs, warmup },
    );
    return { mino: list, node, target_ms: 1000 };
  } finally {
    if (names.length > 0) spawnSync('podman', ['volume', 'rm', '-f', ...names], { env });
  }
}

function sessionsFixture(count) {
  const dir = join(root, 'many', 'mino', 'sessions');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    writeFileSync(
      join(dir, `s${i}.json`),
      JSON.stringify(
        {
          id: globalThis.crypto.randomUUID(),
          name: `s${i}`,
          project_dir: project,
          command: ['claude'],
          container_id: `mino-s${i}`,
          status: 'stopped',
          created_at: at,
          updated_at: at,
          cloud_providers: [],
          home_volume: null,
          exit_code: 0,
          owner_pid: 1,
          mode: 'command',
        },
        null,
        2,
      ),
    );
  }
  return join(root, 'many');
}

try {
  // The start-up cases first: cheap, and the most sensitive to what else runs on the machine.
  // Start-up, side by side: bare Node, the launcher (its --version skips the bundle; --help loads
  // it), the single executable (both answered from the start-up snapshot).
  const [node0, version, binVersion, help, binHelp] = interleaved(
    [
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
      { name: 'mino --version', argv: [process.execPath, mino, '--version'], env },
      { name: 'dist/mino --version', argv: [binary, '--version'], env },
      { name: 'mino --help', argv: [process.execPath, mino, '--help'], env },
      { name: 'dist/mino --help', argv: [binary, '--help'], env },
    ],
    { runs: runs * 2, warmup },
  );
  const manyState = sessionsFixture(1000);
  const [list1000, binList1000, node0b] = interleaved(
    [
      {
        name: 'mino list -a -f json (1,000 sessions)',
        argv: [process.execPath, mino, 'list', '-a', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: manyState },
      },
      {
        name: 'dist/mino list -a -f json (1,000 sessions)',
        argv: [binary, 'list', '-a', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: manyState },
      },
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
    ],
    { runs, warmup },
  );
  // mino stats with the same 1,000 session files (counters file, records, one podman ps).
  const [stats1000, binStats1000, node0c] = interleaved(
    [
      {
        name: 'mino stats -f json (1,000 sessions)',
        argv: [process.execPath, mino, 'stats', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: manyState },
      },
      {
        name: 'dist/mino stats -f json (1,000 sessions)',
        argv: [binary, 'stats', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: manyState },
      },
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
    ],
    { runs, warmup },
  );
  const poolStatus1000 = poolStatusMany({ repo, runs, warmup, env, stateHome: manyState, binary });
  const bridge = runPair('bridge');
  const none = runPair('none');
  // These two depend on the engine's shared image store: a failure (another process removing
  // images while podman lists them, say) is reported in the JSON instead of losing every figure.
  const failed = [];
  const attempt = (name, fn) => {
    try {
      return fn();
    } catch (err) {
      failed.push(name);
      return { error: String(err?.message ?? err).split('\n')[0] };
    }
  };
  const composed = attempt('composed_hit', composedPair);
  const cacheList = attempt('cache_list_200', () => cacheListMany(200));
  const pooledRootful = attempt('pool_rootful', () => pooledVsCold('rootful', { repo, runs, warmup }));
  const pooledRootless =
    process.getuid?.() === 0
      ? attempt('pool_rootless', () => pooledVsCold('rootless', { repo, runs, warmup }))
      : { skipped: 'run the bench as root for the rootless figures' };
  const warm = process.env.BENCH_SKIP_WARM ? { skipped: 'BENCH_SKIP_WARM' } : await warmBench({ repo, runs, warmup });
  const contained = attempt('contained', () => containedBench({ repo, runs, warmup }));
  const size = statSync(binary).size;
  const egress = await networkBench({ mino, env, project, image: IMAGE, runs, warmup });
  const tls = await tlsBench({ mino, env, project, root, runs, warmup }).catch((err) => ({ error: String(err) }));
  const proxyMicro = await proxyMicroBench({ runs: Math.min(runs, 5) }).catch((err) => ({ error: String(err) }));
  const proxyFloor = await proxyFloorBench({ runs: Math.min(runs, 5) }).catch((err) => ({ error: String(err) }));
  const credentials = credentialsPair({ mino, repo, root, project, env, runs, warmup });
  const branch = await branchBench({ mino, image: IMAGE, runs, warmup }).catch((err) => {
    failed.push('branch');
    return { error: String(err?.message ?? err).split('\n')[0] };
  });
  const remote = await remoteBench({ mino, runs: Math.min(runs, 5), warmup: 1 }).catch((err) => ({
    error: String(err?.message ?? err).split('\n')[0],
  }));
  const remoteCred = await remoteCredBench({ mino, runs: Math.min(runs, 5), warmup: 1 }).catch((err) => ({
    error: String(err?.message ?? err).split('\n')[0],
  }));

  const report = {
    host: hostFacts(),
    runs,
    warmup,
    results: {
      run_bridge: { ...bridge, target_ratio: 1.15 },
      run_none: { ...none, target_ratio: 1.15 },
      version: {
        mino: version,
        node: node0,
        ratio: ratio(version.median_ms, node0.median_ms),
        cpu_ratio: cpuRatio(version, node0),
        target_ratio: 1.3,
      },
      list_1000: {
        mino: list1000,
        node: node0b,
        ratio: ratio(list1000.median_ms, node0b.median_ms),
        cpu_ratio: cpuRatio(list1000, node0b),
        target_ratio: 1.6,
      },
      stats_1000: {
        mino: stats1000,
        binary: binStats1000,
        node: node0c,
        ratio: ratio(stats1000.median_ms, node0c.median_ms),
        binary_ratio: ratio(binStats1000.median_ms, node0c.median_ms),
        cpu_ratio: cpuRatio(stats1000, node0c),
        target_ratio: 1.6,
      },
      cache_list_200: cacheList,
      pool_rootful: pooledRootful,
      pool_rootless: pooledRootless,
      pool_status_1000: poolStatus1000,
      warm,
      contained,
      binary: {
        size_bytes: size,
        size_mib: round(size / 2 ** 20),
        version: {
          binary: binVersion,
          node: node0,
          ratio: ratio(binVersion.median_ms, node0.median_ms),
          cpu_ratio: cpuRatio(binVersion, node0),
          target_ratio: 1.1,
        },
        list_1000: {
          binary: binList1000,
          node: node0b,
          ratio: ratio(binList1000.median_ms, node0b.median_ms),
          cpu_ratio: cpuRatio(binList1000, node0b),
          target_ratio: 1.3,
        },
        // Start-up with the bundle loaded: the snapshot against bin/mino's code-cached require.
        help_vs_launcher: {
          binary: binHelp,
          launcher: help,
          ratio: ratio(binHelp.median_ms, help.median_ms),
          cpu_ratio: cpuRatio(binHelp, help),
        },
        list_1000_vs_launcher: {
          ratio: ratio(binList1000.median_ms, list1000.median_ms),
          cpu_ratio: cpuRatio(binList1000, list1000),
        },
        run_overhead_vs_node: {
          bridge: ratio(bridge.binary_overhead_ms, node0.median_ms),
          none: ratio(none.binary_overhead_ms, node0.median_ms),
          target: 1.3,
        },
      },
      composed_hit:
        composed === undefined
          ? { skipped: 'mino-base is not built (mino setup)' }
          : composed.error
            ? composed
            : { ...composed, target_ratio: 1.1 },
      egress,
      tls,
      proxy_micro: proxyMicro,
      proxy_floor: proxyFloor,
      remote_engine: remote,
      remote_credentials: remoteCred,
      credentials_github: credentials ?? { skipped: 'mino-base is not built (mino setup)' },
      branch,
      overhead_vs_node: {
        bridge: ratio(bridge.overhead_ms, node0.median_ms),
        none: ratio(none.overhead_ms, node0.median_ms),
        target: 1.3,
      },
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const rows = [
    ['(a) run, bridge', bridge.mino.median_ms, bridge.podman.median_ms, bridge.ratio, 1.15],
    ['(b) run, none', none.mino.median_ms, none.podman.median_ms, none.ratio, 1.15],
    ['(c) --version vs node -e 0', version.median_ms, node0.median_ms, report.results.version.ratio, 1.3],
    ['(d) list 1,000 vs node -e 0', list1000.median_ms, node0b.median_ms, report.results.list_1000.ratio, 1.6],
    ['(l) stats 1,000 vs node -e 0', stats1000.median_ms, node0c.median_ms, report.results.stats_1000.ratio, 1.6],
    [
      '(m) dist/mino stats 1,000 vs node',
      binStats1000.median_ms,
      node0c.median_ms,
      report.results.stats_1000.binary_ratio,
      1.6,
    ],
  ];
  rows.push([
    '(l) pool status 1,000 vs node',
    poolStatus1000.mino.median_ms,
    poolStatus1000.node.median_ms,
    poolStatus1000.ratio,
    1.6,
  ]);
  for (const [mode, r] of [
    ['rootful', pooledRootful],
    ['rootless', pooledRootless],
  ]) {
    if (r?.pooled) rows.push([`(m) run warm vs cold, ${mode}`, r.pooled.median_ms, r.cold.median_ms, r.ratio, 0.6]);
  }
  if (!cacheList.error)
    rows.push([
      '(f) cache list, 200 volumes',
      cacheList.mino.median_ms,
      cacheList.node.median_ms,
      ratio(cacheList.mino.median_ms, cacheList.node.median_ms),
      '<1 s',
    ]);
  const b = report.results.binary;
  rows.push(
    ['(g) dist/mino --version vs node', binVersion.median_ms, node0.median_ms, b.version.ratio, 1.1],
    ['(h) dist/mino list 1,000 vs node', binList1000.median_ms, node0b.median_ms, b.list_1000.ratio, 1.3],
    ['(i) --help: dist/mino vs bin/mino', binHelp.median_ms, help.median_ms, b.help_vs_launcher.ratio, ''],
    ['(j) dist/mino run, none', none.binary.median_ms, none.podman.median_ms, none.binary_ratio, 1.15],
    ['(k) dist/mino run, bridge', bridge.binary.median_ms, bridge.podman.median_ms, bridge.binary_ratio, 1.15],
  );
  if (composed && !composed.error)
    rows.push([
      '(e) --layers ts vs --image tag',
      composed.layers.median_ms,
      composed.image.median_ms,
      composed.ratio,
      1.1,
    ]);
  process.stderr.write(
    `\n${'case'.padEnd(34)}${'mino ms'.padStart(10)}${'base ms'.padStart(10)}${'ratio'.padStart(8)}${'target'.padStart(8)}\n`,
  );
  rows.push(...networkRows(egress), ...tlsRows(tls));
  if (credentials) {
    for (const [net, c] of Object.entries(credentials))
      rows.push([`(l) gh on vs --no-github, ${net}`, c.github.median_ms, c.no_github.median_ms, c.ratio, 1.1]);
  }
  if (!branch.error)
    rows.push(
      [
        '(o) run --branch new, 10k files',
        branch.branch_new.median_ms,
        branch.plain.median_ms,
        branch.ratio_new,
        '+1 s',
      ],
      ['(o) fork, 100 changed files', branch.fork_100_changed.median_ms, '', '', '2 s'],
      [
        '(o) run --branch new, pooled/cold',
        branch.pooled_branch.pooled_median_ms,
        branch.pooled_branch.cold_median_ms,
        branch.pooled_branch.ratio,
        '',
      ],
    );
  for (const [name, a, b, r, t] of rows) {
    process.stderr.write(
      `${String(name).padEnd(34)}${String(a).padStart(10)}${String(b).padStart(10)}${String(r).padStart(8)}${String(t).padStart(8)}\n`,
    );
  }
  process.stderr.write(
    `CPU-time ratios (steadier on a busy machine): bin/mino --version ${report.results.version.cpu_ratio}, list ${report.results.list_1000.cpu_ratio}; ` +
      `dist/mino --version ${b.version.cpu_ratio}, list ${b.list_1000.cpu_ratio}, --help vs bin/mino ${b.help_vs_launcher.cpu_ratio}\n`,
  );
  process.stderr.write(
    `mino overhead over raw podman, in units of node -e 0: bridge ${report.results.overhead_vs_node.bridge}, none ${report.results.overhead_vs_node.none} (aim <= 1.3)\n`,
  );
  for (const name of failed) process.stderr.write(`FAILED: ${name}: ${report.results[name].error}\n`);
  if (failed.length > 0) process.exitCode = 1;
  process.stderr.write(
    `dist/mino: ${b.size_mib} MiB; its overhead over raw podman, in units of node -e 0: bridge ${b.run_overhead_vs_node.bridge}, none ${b.run_overhead_vs_node.none}\n`,
  );
} finally {
  // mino runs with mino images keep a home volume per project: remove the bench project's.
  const vols = spawnSync('podman', ['volume', 'ls', '-q', '--filter', `label=io.mino.home.project=${project}`], {
    env,
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .filter(Boolean);
  if (vols.length > 0) spawnSync('podman', ['volume', 'rm', '-f', ...vols], { env });
  removeLoginsVolume(env);
  rmSync(root, { recursive: true, force: true });
}
