// The contained default (no network flag: the agent allowlist through the session's egress
// proxy) in `npm run bench` (also alone: node bench/contained.mjs > contained.json): a pooled
// default `mino run -- true` (a warm container with its own proxy, claimed) against a cold default
// one (--fresh) and a cold `--network none` one, interleaved, rootful on mino-base and rootless on
// a mino-like image with this machine's Node; each run on a quiet machine (the previous run's
// refill done before the clock starts).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleaved } from './lib.mjs';
import { minoLikeImage, NODE_SHIM_FLAGS, settle, sh, userOf } from './pool.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/** Pooled default vs cold default vs cold --network none, in one mode ('rootful' or 'rootless'). */
export function containedVsCold(mode, { repo, runs, warmup }) {
  const root = mkdtempSync(join(tmpdir(), `mino-bench-contained-${mode}-`));
  chmodSync(root, 0o755);
  const user = userOf(mode, root);
  if (!user) {
    rmSync(root, { recursive: true, force: true });
    return { skipped: 'no rootless user' };
  }
  const project = join(root, 'project');
  for (const d of ['state', 'config/mino', 'data', 'project']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'config', 'mino', 'config.toml'), '[pool]\nwarm_ttl = 900\nmax_warm = 10\n');
  spawnSync('chown', ['-R', `${user.uid}:${user.uid}`, root]);
  const mino = [process.execPath, join(repo, 'bin', 'mino')];
  let image;
  let extra = [];
  let built = false;
  try {
    if (mode === 'rootful') {
      if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest']).status !== 0)
        return { skipped: 'mino-base is not built (mino setup)' };
      image = 'localhost/mino-base:latest';
    } else {
      image = minoLikeImage(user, repo, { tag: 'localhost/mino-composed-be0c1000c0de:latest', nodeShim: true });
      extra = NODE_SHIM_FLAGS;
      built = true;
    }
    const flags = ['-p', project, '--no-home', '--image', image, ...extra];
    sh(user, [...mino, 'pool', 'warm', '-n', '2', ...flags]);
    let n = 0;
    const run = (name, more) => ({
      name,
      get argv() {
        settle(user, mino, 2);
        n++;
        return [...user.prefix, ...mino, 'run', '-n', `bench-contained-${n}`, ...more, ...flags, '--', 'true'];
      },
      env: user.env,
    });
    const [pooled, cold, none] = interleaved(
      [
        run(`mino run -- true (contained, warm pool) [${mode}]`, []),
        run(`mino run --fresh -- true (contained, cold) [${mode}]`, ['--fresh']),
        run(`mino run --fresh --network none -- true (cold) [${mode}]`, ['--fresh', '--network', 'none']),
      ],
      { runs, warmup },
    );
    const counters = JSON.parse(sh(user, ['cat', join(root, 'state', 'mino', 'sandbox-counters.json')]));
    return {
      image,
      pooled,
      cold,
      none,
      pooled_vs_cold: ratio(pooled.median_ms, cold.median_ms),
      contained_vs_none: ratio(cold.median_ms, none.median_ms),
      contained_extra_ms: Math.round(cold.median_ms - none.median_ms),
      pool_hits: counters.pool_hits,
    };
  } finally {
    try {
      sh(user, [...mino, 'pool', 'drain']);
    } catch {
      // reported by the figures above, if anything
    }
    if (built) spawnSync(user.prefix[0] ?? 'podman', [...user.prefix.slice(1), 'podman', 'rmi', '-f', image]);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Both modes (rootless only when run as root, which can act as the rootless user). */
export function containedBench(options) {
  return {
    rootful: containedVsCold('rootful', options),
    rootless: process.getuid?.() === 0 ? containedVsCold('rootless', options) : { skipped: 'run the bench as root' },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const runs = Number(process.env.BENCH_RUNS ?? 10);
  const warmup = Number(process.env.BENCH_WARMUP ?? 2);
  process.stdout.write(`${JSON.stringify(containedBench({ repo, runs, warmup }), null, 2)}\n`);
}
