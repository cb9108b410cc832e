import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the mino checkout. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built CLI. */
export const MINO_BIN = join(REPO_ROOT, 'bin', 'mino');
/** The single executable built by `npm run package` (no Node.js needed to run it). */
export const MINO_BINARY = join(REPO_ROOT, 'dist', 'mino');
/** Which build of the CLI a test runs: bin/mino (Node + dist/mino.cjs) or dist/mino. */
export type Cli = 'launcher' | 'binary';
/** The fake `orb` executable (test fixture). */
export const FAKE_ORB = join(REPO_ROOT, 'test', 'fixtures', 'fake-orb', 'orb');

/** Label on every podman object a test creates; its value is the test run's id (TEST_RUN). */
export const TEST_LABEL = 'io.mino.test';
/**
 * Id of this test run (set by the global setup, inherited by the workers). Teardown removes the
 * objects labelled with it, so test runs of several checkouts on one machine leave each other alone.
 */
export const TEST_RUN = process.env.MINO_TEST_RUN ?? 'local';
/** The labels every podman object a test creates carries. */
export const TEST_LABELS: Readonly<Record<string, string>> = { [TEST_LABEL]: TEST_RUN };
/** Local image every integration test runs: busybox imported from the host, no registry. */
export const TEST_IMAGE = 'localhost/mino-test-busybox:latest';
/** Unprivileged user the rootless cases run as when the suite runs as root. */
export const ROOTLESS_USER = 'mino-test';
/**
 * uid the global setup gives that user: deliberately not 1000, the uid of mino-base's `developer`,
 * so a test cannot pass because the host uid and the image uid happen to agree.
 */
export const ROOTLESS_UID = 1789;

/**
 * The mino launcher to run as `as`. The rootless test user runs a copy the global setup made in a
 * world-readable temporary directory, because the checkout may sit where that user cannot enter
 * (root's 0700 home, say).
 */
export function minoBinFor(as: 'self' | 'rootless', cli: Cli = 'launcher'): string {
  const own = cli === 'binary' ? MINO_BINARY : MINO_BIN;
  const copy = process.env.MINO_TEST_ROOTLESS_BIN;
  if (as !== 'rootless' || !IS_ROOT || copy === undefined) return own;
  return cli === 'binary' ? join(dirname(copy), '..', 'dist', 'mino') : copy;
}

/** argv that starts the CLI `cli` as `as` (before mino's own arguments). */
export function minoArgv(as: 'self' | 'rootless', cli: Cli = 'launcher'): string[] {
  const bin = minoBinFor(as, cli);
  return cli === 'binary' ? [bin] : [process.execPath, bin];
}

/**
 * Why dist/mino cannot be tested (missing, or older than the bundle it was made from), or
 * undefined when it is ready. `npm test` builds it (`npm run package`).
 */
export function binaryProblem(): string | undefined {
  const bundle = join(REPO_ROOT, 'dist', 'mino-sea.cjs');
  if (!existsSync(MINO_BINARY)) return 'dist/mino is missing: run `npm run package` (npm test does)';
  if (existsSync(bundle) && statSync(bundle).mtimeMs > statSync(MINO_BINARY).mtimeMs) {
    return 'dist/mino is older than dist/mino-sea.cjs: run `npm run package` again';
  }
  return undefined;
}

/** True under CI: a missing prerequisite must fail the run instead of skipping. */
export const IN_CI = Boolean(process.env.CI && process.env.CI !== 'false');

/** True when this process is root. */
export const IS_ROOT = (process.getuid?.() ?? 1) === 0;

/** uid of a user, or undefined when the user does not exist. */
export function uidOf(user: string): number | undefined {
  try {
    return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

/** True when podman is on PATH. */
export function hasPodman(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Environment and argv prefix that run a program as the rootless test user (from root), or as
 * this user when the suite itself runs rootless.
 */
export function rootlessPrefix(): string[] {
  if (!IS_ROOT) return [];
  const uid = uidOf(ROOTLESS_USER);
  if (uid === undefined)
    throw new Error(`rootless test user ${ROOTLESS_USER} does not exist (global setup creates it)`);
  return [
    'runuser',
    '-u',
    ROOTLESS_USER,
    '--',
    'env',
    '-i',
    `HOME=/home/${ROOTLESS_USER}`,
    `USER=${ROOTLESS_USER}`,
    `LOGNAME=${ROOTLESS_USER}`,
    `XDG_RUNTIME_DIR=/run/user/${uid}`,
    `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
    'LANG=C.UTF-8',
  ];
}

/** Whether the rootless cases can run here; the reason when not. */
export function rootlessAvailable(): { ok: boolean; reason?: string } {
  if (!hasPodman()) return { ok: false, reason: 'podman is not installed' };
  if (IS_ROOT && uidOf(ROOTLESS_USER) === undefined) return { ok: false, reason: `user ${ROOTLESS_USER} missing` };
  if (!existsSync('/usr/bin/newuidmap')) return { ok: false, reason: 'newuidmap (uidmap) is not installed' };
  return { ok: true };
}

/**
 * Owner of rootful test projects: a normal user, as a developer's checkout on a server. A rootful
 * session maps the image's user onto the project's owner; with a root image and a root-owned
 * project, container root is host root with a private /dev (tested in root-image.test.ts).
 */
export const ROOTFUL_PROJECT_OWNER = 1500;

/** Gives a test project to the user mino runs as: the rootless test user, or ROOTFUL_PROJECT_OWNER. */
export function ownProject(dir: string, as: 'self' | 'rootless'): void {
  if (!IS_ROOT) return;
  const uid = as === 'rootless' ? uidOf(ROOTLESS_USER)! : ROOTFUL_PROJECT_OWNER;
  chownSync(dir, uid, uid);
}

/** The key mino labels a state directory's containers with (io.mino.state): sha256 of its path, 12 hex digits. */
export function stateKeyOf(stateDir: string): string {
  return createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
}
