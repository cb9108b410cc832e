// Branch-session figures of `npm run bench` (issue 23), on a 10,000-file git repository:
// `mino run --branch` (a new working copy each time, and a continued one) against `mino run` on
// the repository itself, interleaved; `mino fork` of a session with 100 changed files; 8 branch
// sessions on one project at once (all must succeed, each with its own branch home, none seeing
// another's files); `mino run --branch NEW` served by the warm pool (`mino pool warm -b`) against
// the same run cold (--fresh), each pooled run after the pool refilled.
// Standalone: `node bench/branch.mjs` (JSON on stdout); run.mjs calls branchBench().
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, interleaved, median, round, timeAndCpuOnce } from './lib.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

function git(dir, ...args) {
  const r = spawnSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@x', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A committed repository of `files` small files in 100 folders. */
function bigRepo(dir, files) {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${i % 100}`);
    if (i < 100) mkdirSync(sub);
    writeFileSync(join(sub, `f${i}.txt`), `file ${i}\n`);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'initial');
}

/**
 * An image mino takes for its own (so sessions get a home volume): the host's `sh`, `cp`, `true` and
 * `sleep` (warm containers wait with it) with their libraries, user 1000 with /home/developer. Built once; the caller removes it.
 */
function homeImage(root) {
  const dir = join(root, 'home-image');
  const bins = ['/bin/sh', '/bin/cp', '/usr/bin/true', '/bin/sleep'];
  const files = [...bins];
  for (const bin of bins) {
    const ldd = spawnSync('ldd', [bin], { encoding: 'utf8' }).stdout;
    for (const m of ldd.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) files.push(m[1]);
  }
  for (const f of files) {
    mkdirSync(join(dir, 'root', dirname(f)), { recursive: true });
    copyFileSync(f, join(dir, 'root', f));
  }
  mkdirSync(join(dir, 'home'), { recursive: true });
  writeFileSync(
    join(dir, 'Containerfile'),
    'FROM scratch\nCOPY root/ /\nCOPY --chown=1000:1000 home/ /home/developer/\nUSER 1000\n',
  );
  const tag = `localhost/mino-composed-b7a1${Date.now().toString(16).slice(-8)}:latest`;
  const r = spawnSync('podman', ['build', '-q', '-t', tag, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`podman build: ${r.stderr}`);
  return tag;
}

/** Writes `mb` MB into the named volume as user 1000 (rootless: inside podman's user namespace). */
function fillVolume(volume, mb) {
  const mount = spawnSync('podman', ['volume', 'inspect', '--format', '{{.Mountpoint}}', volume], {
    encoding: 'utf8',
  }).stdout.trim();
  const script = `head -c ${mb}M /dev/urandom > "$1/big" && chown 1000:1000 "$1/big"`;
  const argv =
    process.getuid?.() === 0
      ? ['sh', '-c', script, 'sh', mount]
      : ['podman', 'unshare', 'sh', '-c', script, 'sh', mount];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`filling ${volume}: ${r.stderr}`);
}

/** Runs argv to completion, asynchronously: { code, wall_ms }. */
function runAsync(argv, env) {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('close', (code) =>
      resolve({ code, stdout: out, stderr: err.slice(-300), wall_ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

/** The branch figures; `image` needs only /usr/bin/true. */
export async function branchBench({ mino, image, runs, warmup, files = 10_000 }) {
  const root = mkdtempSync(join(tmpdir(), 'mino-bench-branch-'));
  const env = benchEnv(root);
  let homeImg;
  try {
    const repo = join(root, 'repo');
    bigRepo(repo, files);
    const flags = ['-p', repo, '--image', image, '--network', 'none', '--no-cache', '--no-home'];
    let n = 0;
    const [plain, fresh, continued] = interleaved(
      [
        {
          name: `mino run -- true (${files} files)`,
          get argv() {
            return [process.execPath, mino, 'run', '-n', `bp${++n}`, ...flags, '--', '/usr/bin/true'];
          },
          env,
        },
        {
          name: 'mino run --branch NEW -- true (a new working copy)',
          get argv() {
            return [process.execPath, mino, 'run', '-b', `bn${++n}`, ...flags, '--', '/usr/bin/true'];
          },
          env,
        },
        {
          name: 'mino run --branch same -- true (continued)',
          get argv() {
            return [process.execPath, mino, 'run', '-n', `bc${++n}`, '-b', 'same', ...flags, '--', '/usr/bin/true'];
          },
          env,
        },
      ],
      { runs, warmup },
    );

    // fork of a session whose copy has 100 changed files (uncommitted).
    spawnSync(process.execPath, [mino, 'run', '-b', 'src', ...flags, '--', '/usr/bin/true'], { env });
    const listed = JSON.parse(
      spawnSync(process.execPath, [mino, 'list', '-a', '-f', 'json'], { env, encoding: 'utf8' }).stdout,
    );
    const copy = listed.find((s) => s.branch === 'src').project_dir;
    for (let i = 0; i < 100; i++) writeFileSync(join(copy, `d${i}`, `f${i}.txt`), `changed ${i}\n`);
    const forkTimes = [];
    for (let i = 0; i < warmup + runs; i++) {
      const start = process.hrtime.bigint();
      const r = spawnSync(
        process.execPath,
        [
          mino,
          'fork',
          'src',
          `fk${i}`,
          '--image',
          image,
          '--network',
          'none',
          '--no-cache',
          '--no-home',
          '--',
          '/usr/bin/true',
        ],
        { env, encoding: 'utf8' },
      );
      if (r.status !== 0) throw new Error(`mino fork failed: ${r.stderr}`);
      if (i >= warmup) forkTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const forkedChanged = git(repo, 'diff', '--stat', 'mino/src', `refs/mino/wip/fk${warmup}`).includes(
      '100 files changed',
    );

    // The same fork with a 200 MB home volume (copied with cp -a in one short container).
    homeImg = homeImage(root);
    const homeFlags = ['--image', homeImg, '--network', 'none', '--no-cache'];
    const sessions = () =>
      JSON.parse(spawnSync(process.execPath, [mino, 'list', '-a', '-f', 'json'], { env, encoding: 'utf8' }).stdout);
    let forkHome;
    try {
      const made = spawnSync(
        process.execPath,
        [mino, 'run', '-b', 'hsrc', '-p', repo, ...homeFlags, '--', '/usr/bin/true'],
        { env, encoding: 'utf8' },
      );
      if (made.status !== 0) throw new Error(`mino run -b hsrc failed: ${made.stderr}`);
      const hsrc = sessions().find((x) => x.branch === 'hsrc');
      fillVolume(hsrc.home_volume, 200);
      for (let i = 0; i < 100; i++) writeFileSync(join(hsrc.project_dir, `d${i}`, `f${i}.txt`), `changed ${i}\n`);
      const walls = [];
      const cpus = [];
      for (let i = 0; i < warmup + runs; i++) {
        const t = timeAndCpuOnce(
          [process.execPath, mino, 'fork', 'hsrc', `hk${i}`, ...homeFlags, '--', '/usr/bin/true'],
          {
            env,
          },
        );
        if (i >= warmup) {
          walls.push(t.wall);
          if (t.cpu !== undefined) cpus.push(t.cpu);
        }
      }
      const all = sessions();
      const copied = spawnSync(
        'podman',
        ['volume', 'inspect', '--format', '{{.Mountpoint}}', all.find((x) => x.branch === `hk${warmup}`).home_volume],
        { encoding: 'utf8' },
      ).stdout.trim();
      forkHome = {
        median_ms: round(median(walls)),
        cpu_median_ms: cpus.length > 0 ? round(median(cpus)) : null,
        runs: walls.length,
        home_volume_mb: 200,
        home_copied: process.getuid?.() === 0 ? spawnSync('test', ['-s', join(copied, 'big')]).status === 0 : null,
        target_ms: 2000,
      };
    } finally {
      const volumes = sessions()
        .filter((x) => x.branch === 'hsrc' || /^hk\d+$/.test(x.branch ?? ''))
        .map((x) => x.home_volume);
      if (volumes.length > 0) spawnSync('podman', ['volume', 'rm', '-f', ...volumes]);
    }

    // 8 branch sessions at once, each writing a marker and listing the markers it sees.
    const shFlags = ['-p', repo, '--image', homeImg, '--network', 'none', '--no-cache', '--no-home'];
    const start = process.hrtime.bigint();
    const parallel = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runAsync(
          [
            process.execPath,
            mino,
            'run',
            '-b',
            `par${i}`,
            ...shFlags,
            '--',
            '/bin/sh',
            '-c',
            'echo "$0" > "mine-$0"; sleep 1; echo mine-*',
            `par${i}`,
          ],
          env,
        ),
      ),
    );
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const homes = Array.from(
      { length: 8 },
      (_, i) => spawnSync('git', ['-C', repo, 'rev-parse', '-q', '--verify', `mino/par${i}`]).status === 0,
    );
    const alone = parallel.filter((r, i) => r.stdout.trim() === `mine-par${i}`).length;

    const pooled = pooledBranch({ mino, env, flags: shFlags, runs, warmup });
    return {
      files,
      plain,
      branch_new: fresh,
      branch_continued: continued,
      extra_new_ms: round(fresh.median_ms - plain.median_ms),
      extra_continued_ms: round(continued.median_ms - plain.median_ms),
      ratio_new: ratio(fresh.median_ms, plain.median_ms),
      target_extra_ms: 1000,
      fork_100_changed: {
        median_ms: round(median(forkTimes)),
        runs: forkTimes.length,
        uncommitted_carried: forkedChanged,
        home_volume: 'none (--no-home)',
        target_ms: 2000,
      },
      fork_100_changed_home_200mb: forkHome,
      parallel_8: {
        all_succeeded: parallel.every((r) => r.code === 0),
        failures: parallel.filter((r) => r.code !== 0).map((r) => r.stderr),
        branches_home: homes.filter(Boolean).length,
        sessions_seeing_only_their_own_files: alone,
        wall_ms: round(wall),
        slowest_ms: round(Math.max(...parallel.map((r) => r.wall_ms))),
      },
      pooled_branch: pooled,
    };
  } finally {
    if (homeImg) spawnSync('podman', ['rmi', '-f', homeImg]);
    rmSync(root, { recursive: true, force: true });
  }
}

/** `mino pool status -f json` of the bench's state. */
function poolStatus(mino, env) {
  return JSON.parse(
    spawnSync(process.execPath, [mino, 'pool', 'status', '-f', 'json'], { env, encoding: 'utf8' }).stdout,
  );
}

/**
 * `mino run --branch NEW -- true` from a warm pool of 1 (`mino pool warm -b`), each run once the
 * pool refilled, interleaved with the same run cold (--fresh); the pool's hits are counted.
 */
function pooledBranch({ mino, env, flags, runs, warmup }) {
  const warm = spawnSync(process.execPath, [mino, 'pool', 'warm', '-n', '1', '-b', ...flags, '--', 'true'], {
    env,
    encoding: 'utf8',
  });
  if (warm.status !== 0) return { error: warm.stderr.trim() };
  const settle = () => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const s = poolStatus(mino, env);
      if (!s.refilling && s.warm_total >= 1) return;
      if (Date.now() > deadline) throw new Error(`the branch pool did not refill: ${JSON.stringify(s)}`);
      spawnSync('sleep', ['0.2']);
    }
  };
  const pooled = [];
  const cold = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      settle();
      const p = timeAndCpuOnce([process.execPath, mino, 'run', '-b', `pw${i}`, ...flags, '--', '/usr/bin/true'], {
        env,
      });
      settle();
      const c = timeAndCpuOnce(
        [process.execPath, mino, 'run', '-b', `pc${i}`, '--fresh', ...flags, '--', '/usr/bin/true'],
        { env },
      );
      if (i >= warmup) {
        pooled.push(p.wall);
        cold.push(c.wall);
      }
    }
  } finally {
    spawnSync(process.execPath, [mino, 'pool', 'drain'], { env });
  }
  let counters = {};
  try {
    counters = JSON.parse(readFileSync(join(env.XDG_STATE_HOME, 'mino', 'sandbox-counters.json'), 'utf8'));
  } catch {
    // no counters: no hit
  }
  return {
    pooled_median_ms: round(median(pooled)),
    cold_median_ms: round(median(cold)),
    ratio: ratio(median(pooled), median(cold)),
    runs: pooled.length,
    pool_hits: counters.pool_hits ?? 0,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
  const report = await branchBench({
    mino: join(repoRoot, 'bin', 'mino'),
    image: process.env.BENCH_IMAGE ?? 'localhost/mino-probe:1',
    runs: Number(process.env.BENCH_RUNS ?? 10),
    warmup: Number(process.env.BENCH_WARMUP ?? 2),
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
