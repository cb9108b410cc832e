import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  IN_CI, IS_ROOT, MINO_BIN, ROOTLESS_USER, TEST_IMAGE, TEST_LABEL, hasPodman, rootlessPrefix, uidOf,
} from './test-env.js';

/**
 * Prepares the machine for integration tests: builds the busybox test image for root and for
 * the rootless test user (creating that user when running as root), and removes every podman
 * object labelled io.mino.test afterwards.
 */

function sh(argv: string[], options: { input?: string | Buffer; allowFail?: boolean } = {}): string {
  const [file, ...args] = argv;
  const r = spawnSync(file!, args, { input: options.input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
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
  const applets = sh([busybox, '--list']).split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\ndeveloper:x:1000:\n');
  return root;
}

function importImage(prefix: string[], rootfs: string): void {
  const tar = spawnSync('tar', ['-C', rootfs, '-c', '-f', '-', '.'], { maxBuffer: 256 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  sh([...prefix, 'podman', 'import', '-q', '--change', 'CMD ["/bin/sh"]', '-', TEST_IMAGE], { input: tar.stdout });
}

function ensureRootlessUser(): void {
  if (uidOf(ROOTLESS_USER) === undefined) {
    sh(['useradd', '--create-home', '--shell', '/bin/sh', ROOTLESS_USER]);
  }
  const uid = uidOf(ROOTLESS_USER)!;
  const runtimeDir = `/run/user/${uid}`;
  mkdirSync(runtimeDir, { recursive: true });
  chownSync(runtimeDir, uid, uid);
  chmodSync(runtimeDir, 0o700);
}

function cleanupLabelled(prefix: string[]): void {
  const filter = ['--filter', `label=${TEST_LABEL}`];
  const ids = (args: string[]): string[] => sh([...prefix, 'podman', ...args], { allowFail: true }).split('\n').filter(Boolean);
  const containers = ids(['ps', '-a', '-q', ...filter]);
  if (containers.length) sh([...prefix, 'podman', 'rm', '-f', '-i', ...containers], { allowFail: true });
  const volumes = ids(['volume', 'ls', '-q', ...filter]);
  if (volumes.length) sh([...prefix, 'podman', 'volume', 'rm', '-f', ...volumes], { allowFail: true });
  const secrets = sh([...prefix, 'podman', 'secret', 'ls', '--format', '{{.Name}}'], { allowFail: true })
    .split('\n').filter((n) => n.startsWith('mino-test-'));
  for (const s of secrets) sh([...prefix, 'podman', 'secret', 'rm', s], { allowFail: true });
  const images = ids(['images', '-q', ...filter]);
  if (images.length) sh([...prefix, 'podman', 'rmi', '-f', ...images], { allowFail: true });
  sh([...prefix, 'podman', 'rmi', '-i', TEST_IMAGE], { allowFail: true });
}

/**
 * Removes home volumes (`mino-home-*`) left by tests: those whose project (label
 * io.mino.home.project) was a temporary directory that no longer exists. `mino run` with a mino
 * image creates one per project, and test projects are temporary directories.
 */
function cleanupTestHomeVolumes(prefix: string[]): void {
  const out = sh([...prefix, 'podman', 'volume', 'ls', '--filter', 'label=io.mino.home', '--format', '{{.Name}}\t{{index .Labels "io.mino.home.project"}}'], { allowFail: true });
  const tmp = `${tmpdir()}/`;
  const stale = out.split('\n').map((l) => l.split('\t')).filter(([name, project]) =>
    name?.startsWith('mino-home-') && project?.startsWith(tmp) && !existsSync(project)).map(([name]) => name!);
  if (stale.length) sh([...prefix, 'podman', 'volume', 'rm', '-f', ...stale], { allowFail: true });
}

const prefixes: string[][] = [];

/** vitest global setup. */
export default function setup(): () => void {
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
  try {
    if (IS_ROOT) {
      prefixes.push([]);
      ensureRootlessUser();
    }
    prefixes.push(rootlessPrefix());
    for (const prefix of prefixes) {
      cleanupLabelled(prefix);
      importImage(prefix, rootfs);
    }
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
  return () => {
    for (const prefix of prefixes) {
      cleanupLabelled(prefix);
      cleanupTestHomeVolumes(prefix);
    }
    // Fake-orb state directories.
    for (const entry of readdirSync(tmpdir())) {
      if (entry.startsWith('mino-fake-orb-')) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  };
}

