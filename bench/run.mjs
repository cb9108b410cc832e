#!/usr/bin/env node
// `npm run bench`: mino's overhead against raw podman and Node's own start-up.
// Prints JSON on stdout and a table on stderr. Needs a working engine (`mino setup`), which
// also provides the tiny image used here (localhost/mino-probe:1, built from the host's `true`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostFacts, interleaved, round } from './lib.mjs';
import { credentialsPair, removeLoginsVolume } from './credentials.mjs';

/** a / b to two decimals. */
const ratio = (a, b) => Math.round((a / b) * 100) / 100;

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const mino = join(repo, 'bin', 'mino');
const IMAGE = 'localhost/mino-probe:1';
const runs = Number(process.env.BENCH_RUNS ?? 10);
const warmup = Number(process.env.BENCH_WARMUP ?? 2);

const root = mkdtempSync(join(tmpdir(), 'mino-bench-'));
const project = join(root, 'project');
mkdirSync(project);
const env = {
  ...process.env,
  XDG_STATE_HOME: join(root, 'state'),
  XDG_CONFIG_HOME: join(root, 'config'),
  XDG_DATA_HOME: join(root, 'data'),
  NO_COLOR: '1',
};
if (process.getuid?.() !== 0) {
  // Rootless podman keeps images under XDG_DATA_HOME: keep it on the user's real storage.
  const info = spawnSync('podman', ['info', '--format', '{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.GraphDriverName}}'], { encoding: 'utf8' }).stdout.trim().split('|');
  const conf = join(root, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "${info[2]}"\ngraphroot = "${info[0]}"\nrootless_storage_path = "${info[0]}"\nrunroot = "${info[1]}"\n`);
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
  const line = check([process.execPath, mino, 'run', '--dry-run', '--image', IMAGE, '-p', project, '--network', network, '--', '/usr/bin/true']).trim();
  // The dry-run line is shell-quoted; labels and paths here contain no spaces.
  const argv = line.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
  const at = argv.indexOf('--name');
  return () => {
    const copy = [...argv];
    copy[at + 1] = `mino-bench-${process.hrtime.bigint()}`;
    return copy;
  };
}

function runPair(network) {
  const raw = rawPodman(network);
  let n = 0;
  const results = interleaved([
    { name: `mino run --network ${network} -- true`, get argv() { n++; return [process.execPath, mino, 'run', '-n', `bench-${network}-${n}`, '--image', IMAGE, '-p', project, '--network', network, '--', '/usr/bin/true']; }, env },
    { name: `podman run (same flags, ${network})`, get argv() { return raw(); }, env },
  ], { runs, warmup });
  return { mino: results[0], podman: results[1], ratio: ratio(results[0].median_ms, results[1].median_ms), overhead_ms: round(results[0].median_ms - results[1].median_ms) };
}

/**
 * A composed-image cache hit (`--layers typescript`: one `podman images` call finds the base ID
 * and the composed tag) against the same run naming the composed tag with `--image`.
 * Undefined when mino-base is not built (`mino setup`).
 */
function composedPair() {
  if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest'], { env }).status !== 0) return undefined;
  const layerRun = [process.execPath, mino, 'run', '--layers', 'typescript', '-p', project, '--network', 'none', '--', 'true'];
  check(layerRun); // builds the composed image when missing
  const dry = check([process.execPath, mino, 'run', '--dry-run', '--layers', 'typescript', '-p', project, '--network', 'none', '--', 'true']);
  const tag = /localhost\/mino-composed-[0-9a-f]{12}:latest/.exec(dry)?.[0];
  if (!tag) throw new Error(`no composed tag in: ${dry}`);
  let n = 0;
  const results = interleaved([
    { name: 'mino run --layers typescript -- true', get argv() { n++; return [...layerRun.slice(0, 3), '-n', `bench-layers-${n}`, ...layerRun.slice(3)]; }, env },
    { name: `mino run --image ${tag} -- true`, get argv() { n++; return [process.execPath, mino, 'run', '-n', `bench-image-${n}`, '--image', tag, '-p', project, '--network', 'none', '--', 'true']; }, env },
  ], { runs, warmup });
  return { layers: results[0], image: results[1], ratio: ratio(results[0].median_ms, results[1].median_ms), overhead_ms: round(results[0].median_ms - results[1].median_ms) };
}

/** `mino cache list` with `count` cache volumes (created here, labelled io.mino.bench, removed after). */
function cacheListMany(count) {
  const names = [];
  try {
    for (let i = 0; i < count; i++) {
      const hash = (0xb0000000000 + i).toString(16).padStart(12, '0');
      const name = `mino-cache-npm-${hash}`;
      check(['podman', 'volume', 'create', '--label', 'io.mino.bench=true', '--label', 'io.mino.cache=true', '--label', 'io.mino.cache.ecosystem=npm',
        '--label', `io.mino.cache.hash=${hash}`, '--label', `io.mino.cache.created_at=${new Date().toISOString()}`, name]);
      names.push(name);
    }
    const [list, node] = interleaved([
      { name: `mino cache list -f json (${count} cache volumes)`, argv: [process.execPath, mino, 'cache', 'list', '-f', 'json'], env },
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
    ], { runs, warmup });
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
    writeFileSync(join(dir, `s${i}.json`), JSON.stringify({
      id: globalThis.crypto.randomUUID(), name: `s${i}`, project_dir: project, command: ['claude'], container_id: `mino-s${i}`,
      status: 'stopped', created_at: at, updated_at: at, cloud_providers: [], home_volume: null, exit_code: 0, owner_pid: 1, mode: 'command',
    }, null, 2));
  }
  return join(root, 'many');
}

try {
  const bridge = runPair('bridge');
  const none = runPair('none');
  const [version, node0] = interleaved([
    { name: 'mino --version', argv: [process.execPath, mino, '--version'], env },
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
  ], { runs: runs * 2, warmup });
  const composed = composedPair();
  const credentials = credentialsPair({ mino, repo, root, project, env, runs, warmup });
  const cacheList = cacheListMany(200);
  const manyState = sessionsFixture(1000);
  const [list1000, node0b] = interleaved([
    { name: 'mino list -a -f json (1,000 sessions)', argv: [process.execPath, mino, 'list', '-a', '-f', 'json'], env: { ...env, XDG_STATE_HOME: manyState } },
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
  ], { runs, warmup });

  const report = {
    host: hostFacts(),
    runs,
    warmup,
    results: {
      run_bridge: { ...bridge, target_ratio: 1.15 },
      run_none: { ...none, target_ratio: 1.15 },
      version: { mino: version, node: node0, ratio: ratio(version.median_ms, node0.median_ms), target_ratio: 1.3 },
      list_1000: { mino: list1000, node: node0b, ratio: ratio(list1000.median_ms, node0b.median_ms), target_ratio: 1.6 },
      cache_list_200: cacheList,
      composed_hit: composed ? { ...composed, target_ratio: 1.1 } : { skipped: 'mino-base is not built (mino setup)' },
      credentials_github: credentials ?? { skipped: 'mino-base is not built (mino setup)' },
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
  ];
  rows.push(['(f) cache list, 200 volumes', cacheList.mino.median_ms, cacheList.node.median_ms, ratio(cacheList.mino.median_ms, cacheList.node.median_ms), '<1 s']);
  if (composed) rows.push(['(e) --layers ts vs --image tag', composed.layers.median_ms, composed.image.median_ms, composed.ratio, 1.1]);
  if (credentials) {
    for (const [net, c] of Object.entries(credentials)) rows.push([`(g) gh on vs --no-github, ${net}`, c.github.median_ms, c.no_github.median_ms, c.ratio, 1.1]);
  }
  process.stderr.write(`\n${'case'.padEnd(30)}${'mino ms'.padStart(10)}${'base ms'.padStart(10)}${'ratio'.padStart(8)}${'target'.padStart(8)}\n`);
  for (const [name, a, b, r, t] of rows) {
    process.stderr.write(`${String(name).padEnd(30)}${String(a).padStart(10)}${String(b).padStart(10)}${String(r).padStart(8)}${String(t).padStart(8)}\n`);
  }
  process.stderr.write(`mino overhead over raw podman, in units of node -e 0: bridge ${report.results.overhead_vs_node.bridge}, none ${report.results.overhead_vs_node.none} (aim <= 1.3)\n`);
} finally {
  // mino runs with mino images keep a home volume per project: remove the bench project's.
  const vols = spawnSync('podman', ['volume', 'ls', '-q', '--filter', `label=io.mino.home.project=${project}`], { env, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (vols.length > 0) spawnSync('podman', ['volume', 'rm', '-f', ...vols], { env });
  removeLoginsVolume(env);
  rmSync(root, { recursive: true, force: true });
}
