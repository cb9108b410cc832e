// Warm-pool figures of `npm run bench`: a pooled `mino run -- true` against a cold one with the
// same flags (--fresh), interleaved, rootful on mino-base and rootless, each run on a quiet
// machine (the background refill of the previous run has finished before the clock starts).
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interleaved, round } from './lib.mjs';

const ratio = (a, b) => Math.round((a / b) * 100) / 100;
// The rootless user of the figures: the test suite's, or another (MINO_BENCH_ROOTLESS_USER, e.g. one on overlay).
const ROOTLESS_USER = process.env.MINO_BENCH_ROOTLESS_USER || 'mino-test';

function uidOf(user) {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

/** How to run programs as the user of one mode: argv prefix and environment. */
export function userOf(mode, root) {
  const xdg = {
    XDG_STATE_HOME: join(root, 'state'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    NO_COLOR: '1',
  };
  if (mode === 'rootful') return { prefix: [], env: { ...process.env, ...xdg }, uid: 0 };
  const uid = uidOf(ROOTLESS_USER);
  if (uid === undefined) return undefined;
  const base = [
    `HOME=/home/${ROOTLESS_USER}`,
    `USER=${ROOTLESS_USER}`,
    `XDG_RUNTIME_DIR=/run/user/${uid}`,
    `PATH=${process.env.PATH}`,
    'LANG=C.UTF-8',
  ];
  // Rootless podman finds its store through XDG_CONFIG_HOME and XDG_DATA_HOME: keep the user's
  // real store (driver included) while mino's state lives in the bench's directories.
  const asUser = ['runuser', '-u', ROOTLESS_USER, '--', 'env', '-i', ...base];
  const info = spawnSync(
    asUser[0],
    [
      ...asUser.slice(1),
      'podman',
      'info',
      '--format',
      '{{.Store.GraphRoot}}|{{.Store.RunRoot}}|{{.Store.GraphDriverName}}',
    ],
    { encoding: 'utf8', cwd: '/' },
  )
    .stdout.trim()
    .split('|');
  const conf = join(root, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "${info[2]}"\ngraphroot = "${info[0]}"\nrunroot = "${info[1]}"\n`, {
    mode: 0o644,
  });
  const vars = [...Object.entries(xdg).map(([k, v]) => `${k}=${v}`), `CONTAINERS_STORAGE_CONF=${conf}`];
  return { prefix: [...asUser, ...vars], env: process.env, uid };
}

export function sh(user, argv, input) {
  const full = [...user.prefix, ...argv];
  const r = spawnSync(full[0], full.slice(1), {
    env: user.env,
    encoding: input === undefined ? 'utf8' : undefined,
    input,
    cwd: '/',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${String(r.stderr).slice(-400)}`);
  return String(r.stdout);
}

/** Run flags that mount this machine's Node and its libraries for an image made with `nodeShim`. */
export const NODE_SHIM_FLAGS = [
  '--allow-system-paths',
  '--volume',
  '/usr/lib/x86_64-linux-gnu:/opt/host/lib:ro',
  '--volume',
  `${process.execPath}:/opt/host/node:ro`,
];

/**
 * A tiny image that behaves like mino-base where a run can tell (mino-base's entrypoint, a named
 * user `developer`, uid 1000): busybox imported from the host, for the rootless user whose
 * store has no mino-base (building it there takes minutes on vfs).
 */
export function minoLikeImage(
  user,
  repo,
  { tag = 'localhost/mino-composed-be0c1000beef:latest', nodeShim = false } = {},
) {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is not installed');
  const root = mkdtempSync(join(tmpdir(), 'mino-bench-rootfs-'));
  try {
    chmodSync(root, 0o755);
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'home/developer', 'usr/local/bin'])
      mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    chmodSync(join(root, 'tmp'), 0o1777);
    cpSync(busybox, join(root, 'bin', 'busybox'));
    for (const a of spawnSync(busybox, ['--list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((x) => x && x !== 'busybox'))
      symlinkSync('busybox', join(root, 'bin', a));
    writeFileSync(
      join(root, 'etc', 'passwd'),
      'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\n',
    );
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\ndeveloper:x:1000:\n');
    copyFileSync(join(repo, 'layers', 'base', 'mino-entrypoint'), join(root, 'usr', 'local', 'bin', 'mino-entrypoint'));
    writeFileSync(join(root, 'usr', 'local', 'bin', 'mino-bootstrap'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(root, 'usr', 'local', 'bin', 'mino-entrypoint'), 0o755);
    chmodSync(join(root, 'usr', 'local', 'bin', 'mino-bootstrap'), 0o755);
    if (nodeShim) {
      // `node` for the warm agent: this machine's Node, mounted read-only with its libraries by
      // the runs (NODE_SHIM_FLAGS), so the image stays tiny and cold runs copy nothing more.
      writeFileSync(
        join(root, 'usr', 'local', 'bin', 'node'),
        '#!/bin/sh\nexec /opt/host/lib/ld-linux-x86-64.so.2 --library-path /opt/host/lib /opt/host/node "$@"\n',
      );
      chmodSync(join(root, 'usr', 'local', 'bin', 'node'), 0o755);
    }
    spawnSync('chown', ['-R', '1000:1000', join(root, 'home', 'developer')]);
    const tar = spawnSync('tar', ['-C', root, '--numeric-owner', '-c', '-f', '-', '.'], {
      maxBuffer: 256 * 1024 * 1024,
    });
    sh(
      user,
      [
        'podman',
        'import',
        '-q',
        '--change',
        'USER developer',
        '--change',
        'ENTRYPOINT ["/usr/local/bin/mino-entrypoint"]',
        '--change',
        'LABEL io.mino.bench=true',
        '-',
        tag,
      ],
      tar.stdout,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tag;
}

function poolStatus(user, mino) {
  return JSON.parse(sh(user, [...mino, 'pool', 'status', '-f', 'json']));
}

/** Waits until no refill runs and the pool holds `size` warm containers. */
export function settle(user, mino, size) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const s = poolStatus(user, mino);
    if (!s.refilling && s.warm_total >= size) return;
    if (Date.now() > deadline) throw new Error(`the pool did not refill: ${JSON.stringify(s)}`);
    spawnSync('sleep', ['0.2']);
  }
}

/**
 * Pooled vs cold `mino run -- true` in one mode ('rootful' or 'rootless'); undefined with a reason
 * when the mode is not available here.
 */
export function pooledVsCold(mode, { repo, runs, warmup }) {
  const root = mkdtempSync(join(tmpdir(), `mino-bench-pool-${mode}-`));
  chmodSync(root, 0o755);
  const user = userOf(mode, root);
  if (!user) return { skipped: `user ${ROOTLESS_USER} does not exist` };
  const project = join(root, 'project');
  for (const d of ['state', 'config/mino', 'data', 'project']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'config', 'mino', 'config.toml'), '[pool]\nwarm_ttl = 900\nmax_warm = 10\n');
  spawnSync('chown', ['-R', `${user.uid}:${user.uid}`, root]);
  const mino = [process.execPath, join(repo, 'bin', 'mino')];
  let image;
  let built = false;
  try {
    if (mode === 'rootful') {
      if (spawnSync('podman', ['image', 'exists', 'localhost/mino-base:latest']).status !== 0)
        return { skipped: 'mino-base is not built (mino setup)' };
      image = 'localhost/mino-base:latest';
    } else {
      image = minoLikeImage(user, repo);
      built = true;
    }
    const flags = ['-p', project, '--network', 'none', '--no-home', '--image', image];
    sh(user, [...mino, 'pool', 'warm', '-n', '2', ...flags]);
    let n = 0;
    const [pooled, cold] = interleaved(
      [
        {
          name: `mino run (warm pool) -- true [${mode}]`,
          get argv() {
            settle(user, mino, 2);
            n++;
            return [...user.prefix, ...mino, 'run', '-n', `bench-warm-${n}`, ...flags, '--', 'true'];
          },
          env: user.env,
        },
        {
          name: `mino run --fresh -- true [${mode}]`,
          get argv() {
            settle(user, mino, 2);
            n++;
            return [...user.prefix, ...mino, 'run', '-n', `bench-cold-${n}`, '--fresh', ...flags, '--', 'true'];
          },
          env: user.env,
        },
      ],
      { runs, warmup },
    );
    const counters = JSON.parse(sh(user, ['cat', join(root, 'state', 'mino', 'sandbox-counters.json')]));
    const driver = sh(user, ['podman', 'info', '--format', '{{.Store.GraphDriverName}}']).trim();
    return {
      image,
      driver,
      pooled,
      cold,
      ratio: ratio(pooled.median_ms, cold.median_ms),
      saved_ms: round(cold.median_ms - pooled.median_ms),
      pool_hits: counters.pool_hits,
      target_ratio: 0.6,
      stretch_ratio: 0.3,
    };
  } finally {
    try {
      sh(user, [...mino, 'pool', 'drain']);
    } catch {
      // reported by the figures above, if anything
    }
    if (built) {
      try {
        sh(user, ['podman', 'rmi', '-f', image]);
      } catch {
        // left for the next bench run, which replaces it
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
}

/** `mino pool status -f json` (bin/mino and dist/mino) against `node -e 0`, in a state directory with `stateHome`'s 1,000 sessions. */
export function poolStatusMany({ repo, runs, warmup, env, stateHome, binary }) {
  const [status, binStatus, node] = interleaved(
    [
      {
        name: 'mino pool status -f json (1,000 sessions)',
        argv: [process.execPath, join(repo, 'bin', 'mino'), 'pool', 'status', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: stateHome },
      },
      {
        name: 'dist/mino pool status -f json (1,000 sessions)',
        argv: [binary, 'pool', 'status', '-f', 'json'],
        env: { ...env, XDG_STATE_HOME: stateHome },
      },
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'], env },
    ],
    { runs, warmup },
  );
  return {
    mino: status,
    binary: binStatus,
    node,
    ratio: ratio(status.median_ms, node.median_ms),
    binary_ratio: ratio(binStatus.median_ms, node.median_ms),
    target_ratio: 1.6,
  };
}
