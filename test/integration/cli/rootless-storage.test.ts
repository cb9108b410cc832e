import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI, IS_ROOT, TEST_LABEL, TEST_RUN, hasPodman } from '../../helpers/test-env.js';
import { ThrowawayUser } from '../../helpers/throwaway-user.js';
import { exclusive } from '../../helpers/exclusive.js';

exclusive('throwaway-users');

/**
 * `mino setup` and the rootless storage driver, on a throwaway user of its own (created and
 * deleted here, with its own sub-id range) so no shared store is touched: a fresh user gets
 * overlay from the start, a vfs store holding only mino's images is switched, and a vfs store
 * with an image of the user's is never reset: setup gives mino a store of its own on overlay
 * instead, which every command then uses.
 */

/** Per test run, so runs of several checkouts at once never share (and delete) one user. */
const USER = `mino-st-${TEST_RUN}`.slice(0, 32);
const HOME = `/home/${USER}`; // ThrowawayUser's home
const CONF = `${HOME}/.config/containers/storage.conf`;
/** mino's own store and its record (src/runtime/own-store.ts). */
const OWN_GRAPH = `${HOME}/.local/share/mino/containers/storage`;
const OWN_RECORD = `${HOME}/.local/share/mino/containers/store.json`;
/** A layers directory whose base is the probe image plus a label, readable by the throwaway user. */
let LAYERS = '';
/** A busybox root file system tarball for the user's own image. */
let OWN_PARENT_TAR = '';

if (!IS_ROOT && IN_CI)
  throw new Error('rootless-storage.test.ts must run as root under CI (it creates a throwaway user)');
if (!hasPodman() && IN_CI) throw new Error('podman is not installed');
const runnable = IS_ROOT && hasPodman();
if (!runnable) console.warn('[integration] rootless-storage: skipped (needs root and podman)');

const user = new ThrowawayUser(USER);
let scratchDir = '';
/** A static busybox for the user's own image. */
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';

function sh(argv: string[], allowFail = false): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout ?? '';
}

function driver(): string {
  return user.podman(['info', '--format', '{{.Store.GraphDriverName}}']);
}

function storageLine(stdout: string): string {
  return stdout.split('\n').find((l) => /\] +Image storage:/.test(l)) ?? '';
}

/** Removes mino's own store and its record, when an earlier test made them. */
function removeOwnStore(): void {
  if (!existsSync(OWN_RECORD)) return;
  const record = JSON.parse(readFileSync(OWN_RECORD, 'utf8')) as Record<string, string>;
  user.podman(
    [
      '--root',
      record.graphRoot!,
      '--runroot',
      record.runRoot!,
      '--tmpdir',
      record.tmpDir!,
      '--storage-driver',
      'overlay',
      'system',
      'reset',
      '-f',
    ],
    true,
  );
  rmSync(`${HOME}/.local/share/mino`, { recursive: true, force: true });
}

/** The user's store on vfs, as podman picks it when nothing is configured (podman 4.x without fuse-overlayfs). */
function startOnVfs(): void {
  removeOwnStore();
  user.podman(['system', 'reset', '-f'], true);
  rmSync(CONF, { force: true });
  // An explicit vfs for the first call makes the test independent of podman's own pick.
  user.podman(['--storage-driver', 'vfs', 'info'], true);
  expect(driver()).toBe('vfs');
}

function noProbeLeftovers(): void {
  for (const dir of [`${HOME}/.local/share/containers`, `/run/user/${user.uid}`]) {
    if (existsSync(dir)) expect(readdirSync(dir).filter((n) => n.startsWith('mino-overlay-probe'))).toEqual([]);
  }
}

describe.skipIf(!runnable)('mino setup: rootless storage driver [throwaway user]', () => {
  beforeAll(() => {
    user.create(); // removes one left over from an interrupted run first

    scratchDir = mkdtempSync(join(tmpdir(), 'mino-st-'));
    chmodSync(scratchDir, 0o755);
    LAYERS = join(scratchDir, 'layers');
    mkdirSync(join(LAYERS, 'base'), { recursive: true, mode: 0o755 });
    // A busybox root file system: the user's own image, and (the probe image holds only `true`)
    // the shell and commands of the tiny mino-base. ADD unpacks it with its relative links.
    const rootfs = join(scratchDir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true, mode: 0o755 });
    chmodSync(rootfs, 0o755);
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'echo', 'sleep', 'cat', 'id', 'ls'])
      symlinkSync('busybox', join(rootfs, 'bin', applet));
    OWN_PARENT_TAR = join(LAYERS, 'base', 'rootfs.tar');
    sh(['tar', '-C', rootfs, '-cf', OWN_PARENT_TAR, '.']);
    chmodSync(OWN_PARENT_TAR, 0o644);
    writeFileSync(
      join(LAYERS, 'base', 'Containerfile'),
      `ARG PARENT\nFROM \${PARENT}\nADD rootfs.tar /\nLABEL ${TEST_LABEL}=${TEST_RUN}\n`,
      { mode: 0o644 },
    );
    // mino-base's parent: the probe image, which setup makes in whichever store it works on.
    const configDir = `${HOME}/.config/mino`;
    sh(['runuser', '-u', USER, '--', 'mkdir', '-p', configDir]);
    writeFileSync(`${configDir}/config.toml`, '[image]\nbase_from = "localhost/mino-probe:1"\n', { mode: 0o644 });
    chownSync(`${configDir}/config.toml`, user.uid, user.uid);
  });

  afterAll(() => {
    user.remove();
    if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  });

  it('a fresh user gets overlay before podman creates the store', async () => {
    expect(existsSync(`${HOME}/.local/share/containers/storage`)).toBe(false);
    const r = await user.mino(['setup', '--yes', '--skip-image']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(storageLine(r.stdout)).toMatch(/\[FIXED\] +Image storage: overlay/);
    expect(readFileSync(CONF, 'utf8')).toBe('[storage]\ndriver = "overlay"\n');
    expect(driver()).toBe('overlay');
    expect(user.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain('localhost/mino-probe:1');
    noProbeLeftovers();

    const status = await user.mino(['status', '-f', 'json']);
    const storage = (
      JSON.parse(status.stdout) as { checks: Array<{ id: string; status: string; detail?: string }> }
    ).checks.find((c) => c.id === 'storage');
    expect(storage).toMatchObject({ status: 'ok', detail: 'overlay' });
  });

  it('a vfs store holding only mino-probe: status warns, setup --yes switches it to overlay', async () => {
    startOnVfs();
    const status = await user.mino(['status']); // also imports mino-probe into the vfs store
    expect(storageLine(status.stdout)).toMatch(/\[WARN\] +Image storage: vfs.*overlay works here/);
    expect(user.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('localhost/mino-probe:1');
    expect(existsSync(CONF)).toBe(false); // status changes nothing

    const r = await user.mino(['setup', '--yes', '--skip-image']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(storageLine(r.stdout)).toMatch(/\[FIXED\] +Image storage: overlay .*vfs store reset/);
    expect(driver()).toBe('overlay');
    // The probe step after the storage check re-created mino-probe in the new store.
    expect(user.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('localhost/mino-probe:1');
    expect(r.stdout + r.stderr).not.toMatch(/overwritten by graph driver/);
    noProbeLeftovers();
  });

  it('a vfs store with an image of the user: status warns and never resets it', async () => {
    startOnVfs();
    await user.mino(['status']);
    user.podman(['tag', 'localhost/mino-probe:1', 'localhost/mine:1']);
    const r = await user.mino(['status']);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => /\] +Image storage:/.test(l));
    expect(lines[at]).toMatch(/\[WARN\] +Image storage: vfs.*localhost\/mine:1/);
    expect(lines[at + 1]).toMatch(
      /Hint: Run: mino setup \(mino then keeps its images, containers and volumes in a store of its own.*driver = "overlay".*storage\.conf.*podman system reset -f/,
    );
    expect(driver()).toBe('vfs');
    expect(existsSync(CONF)).toBe(false);
    expect(existsSync(OWN_RECORD)).toBe(false);
    expect(user.podman(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').sort()).toEqual([
      'localhost/mine:1',
      'localhost/mino-probe:1',
    ]);
    noProbeLeftovers();
  });

  it('a vfs store with an image of the user: setup gives mino its own overlay store, and every command uses it', async () => {
    startOnVfs();
    user.podman(['import', '-q', '--change', 'CMD ["/bin/sh"]', OWN_PARENT_TAR, 'localhost/mine:1']);
    const userImages = (): string[] =>
      user.podman(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']).split('\n').sort();
    const before = userImages();
    // A tiny mino-base (the real one is a 2 GB build): the probe image, which setup imports into
    // mino's store before the base image step, plus a busybox.
    const r = await user.mino(['setup', '--yes'], { env: { MINO_LAYERS_DIR: LAYERS } });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(storageLine(r.stdout)).toMatch(
      /\[FIXED\] +Image storage: overlay, mino's own store .*\/\.local\/share\/mino\/containers\/storage \(your vfs store, with 1 object\(s\) of yours, is left as it is/,
    );
    expect(r.stdout).toMatch(/\[OK\] +Podman engine: .*storage overlay/);
    expect(r.stdout).toMatch(/\[FIXED\] +Base image: built localhost\/mino-base:[0-9a-f]{12}/);
    const record = JSON.parse(readFileSync(OWN_RECORD, 'utf8')) as Record<string, string>;
    expect(record).toMatchObject({
      graphRoot: OWN_GRAPH,
      runRoot: `/run/user/${user.uid}/mino/storage`,
      tmpDir: `/run/user/${user.uid}/mino/libpod`,
      driver: 'overlay',
    });
    const own = (args: string[], allowFail = false): string =>
      user.podman(
        [
          '--root',
          record.graphRoot!,
          '--runroot',
          record.runRoot!,
          '--tmpdir',
          record.tmpDir!,
          '--storage-driver',
          'overlay',
          ...args,
        ],
        allowFail,
      );
    expect(own(['info', '--format', '{{.Store.GraphDriverName}}'])).toBe('overlay');
    expect(own(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n')).toEqual(
      expect.arrayContaining(['localhost/mino-base:latest', 'localhost/mino-probe:1']),
    );

    // run, list, logs, volume, cache and status all work on mino's store.
    const project = `${HOME}/project`;
    sh(['runuser', '-u', USER, '--', 'mkdir', '-p', project]);
    const run = await user.mino(['run', '--network', 'none', '--', 'sh', '-c', 'echo from-own-store'], {
      cwd: project,
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('from-own-store');
    const detached = await user.mino(['run', '-d', '-n', 'own1', '--network', 'none', '--', 'sleep', '300'], {
      cwd: project,
    });
    expect(detached.exitCode, detached.stdout + detached.stderr).toBe(0);
    expect(own(['ps', '--format', '{{.Names}}'])).toMatch(/own1/);
    expect(user.podman(['ps', '-a', '--format', '{{.Names}}'])).toBe('');
    const list = await user.mino(['list']);
    expect(list.stdout).toMatch(/own1 +Detached +running/);
    const exec = await user.mino(['exec', 'own1', '--', 'echo', 'exec-ok']);
    expect(exec.stdout).toContain('exec-ok');
    expect((await user.mino(['stop', 'own1'])).exitCode).toBe(0);
    expect(own(['ps', '--format', '{{.Names}}'])).not.toMatch(/own1/);
    const vol = await user.mino(['volume', 'create', 'ownvol']);
    expect(vol.exitCode, vol.stdout + vol.stderr).toBe(0);
    expect(own(['volume', 'ls', '--format', '{{.Name}}']).split('\n')).toContain('mino-vol-ownvol');
    expect((await user.mino(['volume', 'ls'])).stdout).toContain('ownvol');
    expect((await user.mino(['cache', 'list'])).exitCode).toBe(0);
    expect((await user.mino(['gc'])).exitCode).toBe(0);
    const status = await user.mino(['status', '-f', 'json']);
    const report = JSON.parse(status.stdout) as {
      runtime: { storageDriver: string; graphRoot: string };
      checks: Array<{ id: string; status: string; detail?: string }>;
    };
    expect(report.runtime).toMatchObject({ storageDriver: 'overlay', graphRoot: OWN_GRAPH });
    expect(report.checks.find((c) => c.id === 'storage')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/your podman store \(vfs\) is left as it is/),
    });

    // The user's store: same images, same driver, no containers or volumes of mino, config untouched.
    expect(driver()).toBe('vfs');
    expect(userImages()).toEqual(before);
    expect(user.podman(['volume', 'ls', '--format', '{{.Name}}'])).toBe('');
    expect(existsSync(CONF)).toBe(false);
    noProbeLeftovers();

    // A second setup keeps using the recorded store and builds nothing.
    const again = await user.mino(['setup', '--yes'], { env: { MINO_LAYERS_DIR: LAYERS } });
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(storageLine(again.stdout)).toMatch(/\[OK\] +Image storage: overlay, mino's own store/);
    expect(again.stdout).toMatch(/\[OK\] +Base image: localhost\/mino-base:[0-9a-f]{12}/);
    expect(userImages()).toEqual(before);
  });
});
