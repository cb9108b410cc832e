// Branch-session figures of `npm run bench` (issue 23), on a 10,000-file git repository:
// `mino run --branch` (a new working copy each time, and a continued one) against `mino run` on
// the repository itself, interleaved; `mino fork` of a session with 100 changed files; 8 branch
// sessions on one project at once (all must succeed, each with its own branch home).
// Standalone: `node bench/branch.mjs` (JSON on stdout); run.mjs calls branchBench().
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleaved, median, round } from './lib.mjs';

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

/** Runs argv to completion, asynchronously: { code, wall_ms }. */
function runAsync(argv, env) {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.on('exit', (code) =>
      resolve({ code, stderr: err.slice(-300), wall_ms: Number(process.hrtime.bigint() - start) / 1e6 }),
    );
  });
}

/** The branch figures; `image` needs only /usr/bin/true. */
export async function branchBench({ mino, image, runs, warmup, files = 10_000 }) {
  const root = mkdtempSync(join(tmpdir(), 'mino-bench-branch-'));
  const env = {
    ...process.env,
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    NO_COLOR: '1',
  };
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

    // 8 branch sessions at once.
    const start = process.hrtime.bigint();
    const parallel = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        runAsync([process.execPath, mino, 'run', '-b', `par${i}`, ...flags, '--', '/usr/bin/true'], env),
      ),
    );
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const homes = Array.from(
      { length: 8 },
      (_, i) => spawnSync('git', ['-C', repo, 'rev-parse', '-q', '--verify', `mino/par${i}`]).status === 0,
    );

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
        home_volume: 'none (the bench image is no mino image); fork copies one with cp -a',
        target_ms: 2000,
      },
      parallel_8: {
        all_succeeded: parallel.every((r) => r.code === 0),
        failures: parallel.filter((r) => r.code !== 0).map((r) => r.stderr),
        branches_home: homes.filter(Boolean).length,
        wall_ms: round(wall),
        slowest_ms: round(Math.max(...parallel.map((r) => r.wall_ms))),
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
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
