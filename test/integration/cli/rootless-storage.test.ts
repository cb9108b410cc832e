import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextFreeSubIdStart } from '../../../src/app/doctor/host-checks.js';
import { hasSubIdRange } from '../../../src/host/rootless-checks.js';
import { IN_CI, IS_ROOT, TEST_RUN, hasPodman, minoBinFor } from '../../helpers/test-env.js';

/**
 * `mino setup` and the rootless storage driver, on a throwaway user of its own (created and
 * deleted here, with its own sub-id range) so no shared store is touched: a fresh user gets
 * overlay from the start, a vfs store holding only mino's images is switched, and a vfs store
 * with an image of the user's is left alone with a warning.
 */

/** Per test run, so runs of several checkouts at once never share (and delete) one user. */
const USER = `mino-st-${TEST_RUN}`.slice(0, 32);
const HOME = `/home/${USER}`;
const CONF = `${HOME}/.config/containers/storage.conf`;

if (!IS_ROOT && IN_CI) throw new Error('rootless-storage.test.ts must run as root under CI (it creates a throwaway user)');
if (!hasPodman() && IN_CI) throw new Error('podman is not installed');
const runnable = IS_ROOT && hasPodman();
if (!runnable) console.warn('[integration] rootless-storage: skipped (needs root and podman)');

let uid = -1;

function sh(argv: string[], allowFail = false): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout ?? '';
}

function asUser(argv: string[]): string[] {
  return [
    'runuser', '-u', USER, '--', 'env', '-i', `HOME=${HOME}`, `USER=${USER}`, `LOGNAME=${USER}`,
    `XDG_RUNTIME_DIR=/run/user/${uid}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'LANG=C.UTF-8', 'NO_COLOR=1', ...argv,
  ];
}

function podman(args: string[], allowFail = false): string {
  return sh(asUser(['podman', ...args]), allowFail).trim();
}

function mino(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const argv = asUser([process.execPath, minoBinFor('rootless'), ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: '/tmp', stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, exitCode: code ?? 1 });
    });
  });
}

function driver(): string {
  return podman(['info', '--format', '{{.Store.GraphDriverName}}']);
}

function storageLine(stdout: string): string {
  return stdout.split('\n').find((l) => /\] +Image storage:/.test(l)) ?? '';
}

/** The user's store on vfs, as podman picks it when nothing is configured (podman 4.x without fuse-overlayfs). */
function startOnVfs(): void {
  podman(['system', 'reset', '-f'], true);
  rmSync(CONF, { force: true });
  // An explicit vfs for the first call makes the test independent of podman's own pick.
  podman(['--storage-driver', 'vfs', 'info'], true);
  expect(driver()).toBe('vfs');
}

function noProbeLeftovers(): void {
  for (const dir of [`${HOME}/.local/share/containers`, `/run/user/${uid}`]) {
    if (existsSync(dir)) expect(readdirSync(dir).filter((n) => n.startsWith('mino-overlay-probe'))).toEqual([]);
  }
}

/** uid of the throwaway user, undefined when it does not exist (quietly, unlike uidOf). */
function userId(): number | undefined {
  const r = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : undefined;
}

function deleteUser(): void {
  const id = userId();
  if (id === undefined) return;
  uid = id;
  podman(['system', 'reset', '-f'], true);
  // Processes podman started for this user (its rootless pause process) would block userdel:
  // end them by pid. They all belong to the throwaway user this file created.
  const pids = spawnSync('ps', ['-u', String(id), '-o', 'pid='], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((p) => p > 1);
  for (const pid of pids) spawnSync('kill', ['-9', String(pid)]);
  sh(['userdel', '-r', USER], true);
  rmSync(`/run/user/${id}`, { recursive: true, force: true });
}

describe.skipIf(!runnable)('mino setup: rootless storage driver [throwaway user]', () => {
  beforeAll(() => {
    deleteUser(); // left over from an interrupted run
    sh(['useradd', '--create-home', '--shell', '/bin/sh', USER]);
    uid = userId()!;
    // Debian's useradd hands out a sub-id range; other distributions may not.
    for (const [file, flag] of [['/etc/subuid', '--add-subuids'], ['/etc/subgid', '--add-subgids']] as const) {
      if (!hasSubIdRange(readFileSync(file, 'utf8'), USER, uid)) {
        const start = nextFreeSubIdStart(readFileSync(file, 'utf8'));
        sh(['usermod', flag, `${start}-${start + 65535}`, USER]);
      }
    }
    const runtimeDir = `/run/user/${uid}`;
    mkdirSync(runtimeDir, { recursive: true });
    chownSync(runtimeDir, uid, uid);
    chmodSync(runtimeDir, 0o700);
  });

  afterAll(() => {
    deleteUser();
  });

  it('a fresh user gets overlay before podman creates the store', async () => {
    expect(existsSync(`${HOME}/.local/share/containers/storage`)).toBe(false);
    const r = await mino(['setup', '--yes', '--skip-image']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(storageLine(r.stdout)).toMatch(/\[FIXED\] +Image storage: overlay/);
    expect(readFileSync(CONF, 'utf8')).toBe('[storage]\ndriver = "overlay"\n');
    expect(driver()).toBe('overlay');
    expect(podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain('localhost/mino-probe:1');
    noProbeLeftovers();

    const status = await mino(['status', '-f', 'json']);
    const storage = (JSON.parse(status.stdout) as { checks: Array<{ id: string; status: string; detail?: string }> }).checks.find((c) => c.id === 'storage');
    expect(storage).toMatchObject({ status: 'ok', detail: 'overlay' });
  });

  it('a vfs store holding only mino-probe: status warns, setup --yes switches it to overlay', async () => {
    startOnVfs();
    const status = await mino(['status']); // also imports mino-probe into the vfs store
    expect(storageLine(status.stdout)).toMatch(/\[WARN\] +Image storage: vfs.*overlay works here/);
    expect(podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('localhost/mino-probe:1');
    expect(existsSync(CONF)).toBe(false); // status changes nothing

    const r = await mino(['setup', '--yes', '--skip-image']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(storageLine(r.stdout)).toMatch(/\[FIXED\] +Image storage: overlay .*vfs store reset/);
    expect(driver()).toBe('overlay');
    // The probe step after the storage check re-created mino-probe in the new store.
    expect(podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('localhost/mino-probe:1');
    expect(r.stdout + r.stderr).not.toMatch(/overwritten by graph driver/);
    noProbeLeftovers();
  });

  it('a vfs store with an image of the user: never reset, WARN with the commands', async () => {
    startOnVfs();
    await mino(['status']);
    podman(['tag', 'localhost/mino-probe:1', 'localhost/mine:1']);
    const r = await mino(['setup', '--yes', '--skip-image']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => /\] +Image storage:/.test(l));
    expect(lines[at]).toMatch(/\[WARN\] +Image storage: vfs.*localhost\/mine:1/);
    expect(lines[at + 1]).toMatch(/Hint: .*driver = "overlay".*storage\.conf.*podman system reset -f/);
    expect(driver()).toBe('vfs');
    expect(existsSync(CONF)).toBe(false);
    expect(podman(['images', '--format', '{{.Repository}}:{{.Tag}}']).split('\n').sort()).toEqual(['localhost/mine:1', 'localhost/mino-probe:1']);
    noProbeLeftovers();
  });
});
