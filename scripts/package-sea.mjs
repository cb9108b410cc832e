#!/usr/bin/env node
// `npm run package`: builds dist/mino, one self-contained executable (a Node single executable
// application) from dist/mino-sea.cjs (built by `npm run build`):
//   1. the built-in layers (layers/) become two assets: the tree as JSON and its SHA-256;
//   2. `node --experimental-sea-config` runs the bundle once inside a snapshot builder and writes
//      a preparation blob holding the V8 start-up snapshot and the assets;
//   3. a copy of this Node binary (stripped of its symbols when `strip` is there: 13 MB less) gets the blob
//      injected with postject, and becomes dist/mino after a `--version` check.
// The binary needs no Node.js and no checkout; it runs on Linux hosts of this machine's
// architecture with a glibc at least as new as the one this Node binary was built for.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(repo, 'dist');
const work = join(dist, 'sea');
const entry = join(dist, 'mino-sea.cjs');
const output = join(dist, 'mino');
// The fuse Node's SEA support looks for (the same for every Node version that has SEA).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const started = process.hrtime.bigint();
const elapsed = () => `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`;

function fail(message, hint) {
  process.stderr.write(`Error: ${message}\n${hint ? `Hint: ${hint}\n` : ''}`);
  process.exit(1);
}

/** Every regular file under `dir`, `/`-separated relative paths, sorted by code unit. */
function listFiles(dir, rel = '') {
  const out = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, path));
    else if (e.isFile()) out.push(path);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The layers tree as the JSON asset src/image/embedded-layers.ts reads. */
function layersAsset() {
  const root = join(repo, 'layers');
  const files = listFiles(root).map((path) => {
    const full = join(root, ...path.split('/'));
    return { path, mode: statSync(full).mode & 0o111 ? 0o755 : 0o644, data: readFileSync(full).toString('base64') };
  });
  if (!files.some((f) => f.path === 'base/Containerfile')) fail(`${root} has no base/Containerfile`);
  // The names src/image/embedded-layers.ts accepts.
  const segment = String.raw`(?!\.\.?(?:/|$))[A-Za-z0-9_.][A-Za-z0-9_.-]*`;
  const bad = files.find((f) => !new RegExp(`^(?:${segment}/)*${segment}$`).test(f.path));
  if (bad) fail(`layers/${bad.path}: file names in layers/ use letters, digits, '_', '.' and '-' only`);
  return Buffer.from(JSON.stringify({ format: 1, files }));
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 12)) {
  fail(
    `Node ${process.version} cannot build the single executable (assets and start-up snapshots need Node 20.12 or newer)`,
    'Run `npm run package` with a newer Node.js',
  );
}
if (process.platform !== 'linux') fail(`npm run package builds Linux executables only (this is ${process.platform})`);
if (!existsSync(entry)) fail(`${relative(repo, entry)} is missing`, 'Run `npm run build` first');
if (!readFileSync(process.execPath).includes(FUSE)) {
  fail(`${process.execPath} has no single-executable support (no SEA fuse)`, 'Use an official Node.js build');
}

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const layers = layersAsset();
writeFileSync(join(work, 'layers.json'), layers);
writeFileSync(join(work, 'layers.sha256'), createHash('sha256').update(layers).digest('hex'));
const blob = join(work, 'mino.blob');
writeFileSync(
  join(work, 'sea-config.json'),
  JSON.stringify(
    {
      main: entry,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: true,
      assets: { 'layers.json': join(work, 'layers.json'), 'layers.sha256': join(work, 'layers.sha256') },
    },
    null,
    2,
  ),
);

// The snapshot builder runs the bundle's module code: give it an empty environment and a
// neutral directory, so nothing of this machine can end up in the snapshot even by mistake.
const built = spawnSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
  cwd: work,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  encoding: 'utf8',
});
if (built.status !== 0 || !existsSync(blob)) {
  fail(`building the snapshot failed (exit ${built.status}):\n${built.stderr}${built.stdout}`);
}
const unverified = [...built.stderr.matchAll(/built-in module "(?:node:)?([a-z_/]+)" works in user snapshot/g)].map(
  (m) => m[1],
);
const otherWarnings = built.stderr
  .split('\n')
  .filter((l) => /warning/i.test(l) && !/not yet fully verified|ExperimentalWarning|--trace-warnings/.test(l));
if (otherWarnings.length > 0) process.stderr.write(`${otherWarnings.join('\n')}\n`);

const tmp = `${output}.tmp-${process.pid}`;
rmSync(tmp, { force: true });
let stripped = false;
try {
  const strip = spawnSync('strip', ['-o', tmp, process.execPath], { stdio: 'ignore' });
  stripped = !strip.error && strip.status === 0;
  if (!stripped) copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  const { inject } = createRequire(import.meta.url)('postject');
  const warn = console.warn; // postject reports harmless ELF notes through console.warn
  console.warn = () => undefined;
  try {
    await inject(tmp, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  } finally {
    console.warn = warn;
  }
  const check = spawnSync(tmp, ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version;
  if (check.status !== 0 || check.stdout.trim() !== version) {
    rmSync(tmp, { force: true }); // fail() exits at once
    fail(
      `the new binary does not start: --version printed ${JSON.stringify(check.stdout)} (exit ${check.status}) ${check.stderr}`,
    );
  }
  renameSync(tmp, output);
} finally {
  rmSync(tmp, { force: true });
}
rmSync(work, { recursive: true, force: true });
const mb = (statSync(output).size / 2 ** 20).toFixed(1);
process.stderr.write(
  `dist/mino: ${mb} MiB, Node ${process.version}${stripped ? ' (symbols stripped)' : ''}, built in ${elapsed()}` +
    `${unverified.length ? `; builtins in the snapshot that Node marks "not fully verified": ${unverified.join(', ')}` : ''}\n`,
);
