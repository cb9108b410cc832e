import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
  chownSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { stopSharedRig, stopStaleRigs } from './remote-engine-rig.js';
import {
  IN_CI,
  IS_ROOT,
  MINO_BIN,
  REPO_ROOT,
  ROOTLESS_UID,
  ROOTLESS_USER,
  TEST_IMAGE,
  TEST_LABEL,
  hasPodman,
  rootlessPrefix,
  uidOf,
} from './test-env.js';

/**
 * Prepares the machine for integration tests: builds the busybox test image for root and for
 * the rootless test user (creating that user when running as root), gives that user a copy of
 * the built CLI it can read, and removes the podman objects this run labelled afterwards.
 */

/** Objects labelled io.mino.test by a run that ended this long ago without cleaning up are removed. */
const STALE_AFTER_SECONDS = 6 * 3600;

function sh(argv: string[], options: { input?: string | Buffer; allowFail?: boolean } = {}): string {
  const [file, ...args] = argv;
  // cwd '/': the rootless test user may not be allowed into the checkout (root's 0700 home).
  const r = spawnSync(file!, args, { input: options.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: '/' });
  if (r.status !== 0 && !options.allowFail) {
    throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout ?? '';
}

function findBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (existsSync(p)) {
      const out = spawnSync('ldd', [p], { encoding: 'utf8' });
      if (out.status !== 0 || /not a dynamic/.test(out.stdout + out.stderr)) return p;
    }
  }
  return undefined;
}

/** Builds a busybox root filesystem directory readable by everyone. */
function busyboxRootfs(busybox: string): string {
  const root = mkdtempSync(join(tmpdir(), 'mino-test-rootfs-'));
  chmodSync(root, 0o755); // a 0700 root breaks containers that run as a non-root user
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'home/developer', 'workspace']) {
    mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
  }
  chmodSync(join(root, 'tmp'), 0o1777);
  cpSync(busybox, join(root, 'bin', 'busybox'));
  const applets = sh([busybox, '--list'])
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(
    join(root, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\n',
  );
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\ndeveloper:x:1000:\n');
  return root;
}

function importImage(prefix: string[], rootfs: string): void {
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '-f', '-', '.'], { maxBuffer: 256 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  sh(
    [
      ...prefix,
      'podman',
      'import',
      '-q',
      '--change',
      'CMD ["/bin/sh"]',
      '--change',
      'LABEL io.mino.test.busybox=1',
      '-',
      TEST_IMAGE,
    ],
    { input: tar.stdout },
  );
  // The image this import replaced (untagged now) unless a container still uses it.
  sh([...prefix, 'podman', 'image', 'prune', '-f', '--filter', 'label=io.mino.test.busybox=1'], { allowFail: true });
}

function ensureRootlessUser(): void {
  if (uidOf(ROOTLESS_USER) === undefined) {
    // A fixed uid that is not 1000 (see ROOTLESS_UID); useradd also gives it subuid/subgid ranges.
    sh(['useradd', '--create-home', '--shell', '/bin/sh', '--uid', String(ROOTLESS_UID), ROOTLESS_USER]);
  }
  const uid = uidOf(ROOTLESS_USER)!;
  if (uid === 1000) {
    throw new Error(
      `the rootless test user ${ROOTLESS_USER} has uid 1000, the image user's uid, which hides ownership bugs; remove it (userdel -r ${ROOTLESS_USER}) and let the tests create it again`,
    );
  }
  const runtimeDir = `/run/user/${uid}`;
  mkdirSync(runtimeDir, { recursive: true });
  chownSync(runtimeDir, uid, uid);
  chmodSync(runtimeDir, 0o700);
}

/** Seconds since the epoch of a podman JSON `Created`/`CreatedAt` value (number or date string). */
function createdSeconds(value: unknown): number {
  if (typeof value === 'number') return value;
  const t = Date.parse(String(value));
  return Number.isNaN(t) ? Date.now() / 1000 : t / 1000;
}

/**
 * Removes the podman objects labelled io.mino.test=<run> and, with `stale`, those of any run that
 * are older than STALE_AFTER_SECONDS (left by a run that was killed). Objects of other runs going
 * on at the same time (another checkout's tests) are left alone.
 */
function cleanupLabelled(prefix: string[], run: string, stale: boolean): void {
  const podmanJson = (args: string[]): Record<string, unknown>[] => {
    const out = sh([...prefix, 'podman', ...args, '--format', 'json', '--filter', `label=${TEST_LABEL}`], {
      allowFail: true,
    });
    try {
      return JSON.parse(out || '[]') as Record<string, unknown>[];
    } catch {
      return [];
    }
  };
  const now = Date.now() / 1000;
  const labelsOf = (o: Record<string, unknown>): Record<string, string> => (o.Labels ?? {}) as Record<string, string>;
  const doomed = (o: Record<string, unknown>, created: unknown): boolean =>
    labelsOf(o)[TEST_LABEL] === run || (stale && now - createdSeconds(created) > STALE_AFTER_SECONDS);
  const containers = podmanJson(['ps', '-a'])
    .filter((c) => doomed(c, c.Created))
    .map((c) => String(c.Id));
  if (containers.length) sh([...prefix, 'podman', 'rm', '-f', '-i', ...containers], { allowFail: true });
  const volumes = podmanJson(['volume', 'ls'])
    .filter((v) => doomed(v, v.CreatedAt))
    .map((v) => String(v.Name));
  if (volumes.length) sh([...prefix, 'podman', 'volume', 'rm', '-f', ...volumes], { allowFail: true });
  const secrets = sh([...prefix, 'podman', 'secret', 'ls', '--format', '{{.Name}}'], { allowFail: true })
    .split('\n')
    .filter((n) => n.startsWith(`mino-test-${run}-`));
  for (const s of secrets) sh([...prefix, 'podman', 'secret', 'rm', s], { allowFail: true });
  // By name: podman refuses to remove by ID an image that has several names (composed images
  // often do), so those stayed behind run after run; removing its last name removes the image.
  // Without -f: an image another run's container still uses stays.
  const images = podmanJson(['images']).filter((i) => doomed(i, i.Created));
  for (const image of images) {
    const names = Array.isArray(image.Names) ? image.Names.map(String) : [];
    for (const ref of names.length > 0 ? names : [String(image.Id)]) {
      sh([...prefix, 'podman', 'rmi', '-i', ref], { allowFail: true });
    }
  }
}

/**
 * A copy of the built CLI (launcher, bundle, the single executable dist/mino when it is built,
 * built-in layers, production dependencies) in a world-readable temporary directory, for the
 * rootless test user: the checkout itself may be where that user cannot enter. Returns the directory.
 */
function rootlessInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mino-test-install-'));
  chmodSync(dir, 0o755);
  const production = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .stdout.split('\n')
    .map((p) => relative(REPO_ROOT, p))
    .filter((p) => p.startsWith('node_modules'));
  for (const part of ['bin', 'dist', 'layers', 'package.json', ...production]) {
    // dist/ holds dist/mino too (test-env's minoBinFor finds it there), not the maps.
    const filter = (src: string): boolean => !src.endsWith('.map');
    if (existsSync(join(REPO_ROOT, part))) cpSync(join(REPO_ROOT, part), join(dir, part), { recursive: true, filter });
  }
  sh(['chmod', '-R', 'a+rX', dir]);
  return dir;
}

/** What tests leave behind that names a temporary path: listed by label, removed once the path is gone. */
interface Orphans {
  /** podman arguments that list `<name or ID>\t<path>` lines. */
  list: string[];
  /** Only entries whose name starts with this. */
  namePrefix: string;
  /** podman arguments that remove the entries given after them. */
  remove: string[];
}

/**
 * Test leftovers that point into the temporary directory where the path they name no longer
 * exists: killed test runs never ran their own cleanup.
 * - session containers (label io.mino.project): a leftover `mino-bg` would take that name from
 *   every later run;
 * - home volumes `mino-home-*` (label io.mino.home.project): one per project of a mino image;
 * - shared agent logins volumes `mino-logins-*` (label io.mino.logins.state_dir): one per state
 *   directory, and tests use temporary ones.
 */
const ORPHANS: readonly Orphans[] = [
  {
    list: ['ps', '-a', '--filter', 'label=io.mino.project', '--format', '{{.ID}}\t{{index .Labels "io.mino.project"}}'],
    namePrefix: '',
    remove: ['rm', '-f', '-i'],
  },
  {
    list: [
      'volume',
      'ls',
      '--filter',
      'label=io.mino.home',
      '--format',
      '{{.Name}}\t{{index .Labels "io.mino.home.project"}}',
    ],
    namePrefix: 'mino-home-',
    remove: ['volume', 'rm', '-f'],
  },
  {
    list: [
      'volume',
      'ls',
      '--filter',
      'label=io.mino.logins',
      '--format',
      '{{.Name}}\t{{index .Labels "io.mino.logins.state_dir"}}',
    ],
    namePrefix: 'mino-logins-',
    remove: ['volume', 'rm', '-f'],
  },
];

/** Removes the {@link ORPHANS} of the engine `prefix` reaches. */
function cleanupOrphans(prefix: string[]): void {
  const tmp = `${tmpdir()}/`;
  for (const kind of ORPHANS) {
    const out = sh([...prefix, 'podman', ...kind.list], { allowFail: true });
    const stale = out
      .split('\n')
      .map((l) => l.split('\t'))
      .filter(([name, path]) => name?.startsWith(kind.namePrefix) && path?.startsWith(tmp) && !existsSync(path))
      .map(([name]) => name!);
    if (stale.length) sh([...prefix, 'podman', ...kind.remove, ...stale], { allowFail: true });
  }
}

/**
 * A rootless engine whose state survived a restart of the machine without /run being cleared
 * (snapshotted machines do that) refuses every command: "invalid internal status, try resetting
 * the pause process with podman system migrate". That repair is exactly what podman asks for.
 */
function repairStalePauseProcess(prefix: string[]): void {
  if (prefix.length === 0) return;
  const [file, ...args] = [...prefix, 'podman', 'info', '--format', '{{.Host.OS}}'];
  const r = spawnSync(file!, args, { encoding: 'utf8', cwd: '/' });
  if (r.status !== 0 && /podman system migrate/.test(r.stderr)) {
    sh([...prefix, 'podman', 'system', 'migrate']);
  }
}

/**
 * Removes the empty per-state directories of session env files the tests' state directories
 * left under /run/mino and the rootless user's /run/user/<uid>/mino (tmpfs; mino recreates them
 * when needed). Directories that still hold files are left alone.
 */
function cleanupEmptySessionEnvDirs(): void {
  const uid = uidOf(ROOTLESS_USER);
  for (const base of ['/run/mino', ...(uid === undefined ? [] : [`/run/user/${uid}/mino`])]) {
    if (!existsSync(base)) continue;
    for (const key of readdirSync(base)) {
      for (const dir of [join(base, key, 'session-env'), join(base, key)]) {
        try {
          rmdirSync(dir);
        } catch {
          // not empty, or gone
        }
      }
    }
  }
}

const prefixes: string[][] = [];

/** vitest global setup. */
export default function setup(): () => void {
  const run = process.env.MINO_TEST_RUN ?? randomBytes(4).toString('hex');
  // Workers inherit this environment: test-env reads the run id and the rootless CLI copy from it;
  // remote-engine-rig.ts the run's owner (this process), whose end tells a left rig from a live one.
  process.env.MINO_TEST_RUN = run;
  process.env.MINO_TEST_MAIN_PID = String(process.pid);
  if (!existsSync(join(MINO_BIN, '..', '..', 'dist', 'mino.cjs'))) {
    throw new Error('dist/mino.cjs is missing: run `npm run build` first (npm test does)');
  }
  if (!hasPodman()) {
    if (IN_CI) throw new Error('podman is not installed: CI must run `bin/mino setup --yes` before the tests');
    console.warn('[global-setup] podman not installed: integration tests will fail or skip');
    return () => undefined;
  }
  const busybox = findBusybox();
  if (!busybox) {
    throw new Error('busybox-static is needed to build the test image (apt-get install busybox-static)');
  }
  const rootfs = busyboxRootfs(busybox);
  let install: string | undefined;
  try {
    if (IS_ROOT) {
      prefixes.push([]);
      stopStaleRigs();
      ensureRootlessUser();
      install = rootlessInstall();
      process.env.MINO_TEST_ROOTLESS_BIN = join(install, 'bin', 'mino');
    }
    prefixes.push(rootlessPrefix());
    for (const prefix of prefixes) {
      repairStalePauseProcess(prefix);
      cleanupLabelled(prefix, run, true);
      cleanupOrphans(prefix);
      importImage(prefix, rootfs);
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return () => {
    // The remote tests' rig (started by the first of them, if any ran): its user, engine and sshd.
    if (IS_ROOT) stopSharedRig(run);
    for (const prefix of prefixes) {
      cleanupLabelled(prefix, run, false);
      cleanupOrphans(prefix);
    }
    if (install) rmSync(install, { recursive: true, force: true });
    if (IS_ROOT) cleanupEmptySessionEnvDirs();
    // This run's fake-orb state directories (test/helpers/engines.ts) and file locks
    // (test/helpers/exclusive.ts), not other runs'.
    for (const entry of readdirSync(tmpdir())) {
      if (entry.startsWith(`mino-test-orb-${run}-`) || entry.startsWith(`mino-test-lock-${run}-`))
        rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  };
}
