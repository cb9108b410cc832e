import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI, IS_ROOT, TEST_RUN, hasPodman } from '../../helpers/test-env.js';
import { ThrowawayUser } from '../../helpers/throwaway-user.js';
import { exclusive } from '../../helpers/exclusive.js';

exclusive('throwaway-users');

/**
 * mino as a brand-new rootless user meets it, on a throwaway user of this file's own (a fresh
 * account, a fresh 0700 XDG_RUNTIME_DIR, no mino-base: nothing here builds it): a run before
 * setup, what status and setup say about the runtime directory, and a vfs user's own images once
 * mino keeps its images in a store of its own. The tests of a describe run in order, on one user.
 */

const USER = `mino-nu-${TEST_RUN}`.slice(0, 32);
const HOME = `/home/${USER}`;

if (!IS_ROOT && IN_CI) throw new Error('new-user.test.ts must run as root under CI (it creates a throwaway user)');
if (!hasPodman() && IN_CI) throw new Error('podman is not installed');
const runnable = IS_ROOT && hasPodman();
if (!runnable) console.warn('[integration] new-user: skipped (needs root and podman)');

const user = new ThrowawayUser(USER);
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';

function sh(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout ?? '';
}

/** A directory of the user's, made as the user. */
function userDir(path: string): string {
  sh(['runuser', '-u', USER, '--', 'mkdir', '-p', path]);
  return path;
}

/** The line of check `title` in status/setup output ('' when there is none). */
function line(stdout: string, title: string): string {
  return stdout.split('\n').find((l) => new RegExp(`^\\[\\w+\\] +${title.replace(/[/.]/g, '\\$&')}`).test(l)) ?? '';
}

function runtimeDirMode(): number {
  return statSync(`/run/user/${user.uid}`).mode & 0o777;
}

describe.skipIf(!runnable)('a brand-new rootless user [throwaway user]', () => {
  let scratch = '';
  /** A busybox root file system tarball, readable by the user: their own image. */
  let rootfsTar = '';

  beforeAll(() => {
    user.create();
    scratch = mkdtempSync(join(tmpdir(), 'mino-nu-'));
    chmodSync(scratch, 0o755);
    const rootfs = join(scratch, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true, mode: 0o755 });
    chmodSync(rootfs, 0o755);
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'echo', 'cat']) symlinkSync('busybox', join(rootfs, 'bin', applet));
    rootfsTar = join(scratch, 'rootfs.tar');
    sh(['tar', '-C', rootfs, '-cf', rootfsTar, '.']);
    chmodSync(rootfsTar, 0o644);
  });

  afterAll(() => {
    user.remove(); // its stores (mino's own included: it lives in the user's home) go with it
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('a run before setup: one Error and a Hint to run setup, and no volume left in the store', async () => {
    const project = userDir(`${HOME}/before-setup`);
    const r = await user.mino(['run', '--', 'true'], { cwd: project });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "Error: Image localhost/mino-base:latest is not available locally\nHint: Run 'mino setup --yes' to build it (a few minutes, once), or pass --image <local image>\n",
    );
    expect(user.podman(['volume', 'ls', '--format', '{{.Name}}'])).toBe('');
  });

  it('a runtime directory podman left 0711 is a warning, not a failure, and the storage check still runs', async () => {
    chmodSync(`/run/user/${user.uid}`, 0o711);
    const r = await user.mino(['status']);
    expect(line(r.stdout, 'XDG_RUNTIME_DIR'), r.stdout).toMatch(/^\[WARN\] +XDG_RUNTIME_DIR: .*mode 0711, not 0700/);
    expect(r.stdout).not.toContain('[FAIL]');
    expect(line(r.stdout, 'Image storage')).toMatch(/^\[WARN\] +Image storage: .*vfs/); // checked, not skipped
    expect(r.exitCode, r.stdout).toBe(0);
    expect(runtimeDirMode()).toBe(0o711); // status changes nothing
  });

  it('a failure never silently skips the storage check: it says [SKIP] and why', async () => {
    chmodSync(`/run/user/${user.uid}`, 0o755);
    const r = await user.mino(['status']);
    expect(line(r.stdout, 'XDG_RUNTIME_DIR')).toMatch(
      /^\[FAIL\] +XDG_RUNTIME_DIR: .*accessible by others \(mode 0755\)/,
    );
    expect(line(r.stdout, 'Image storage')).toBe(
      '[SKIP]  Image storage: not checked: the storage driver is decided once the checks above pass (XDG_RUNTIME_DIR failed)',
    );
    expect(r.exitCode).toBe(1);
    chmodSync(`/run/user/${user.uid}`, 0o711);
  });

  it("a vfs user's own image: setup gives mino its own store (and narrows the runtime directory), a run copies the image over with progress", async () => {
    user.podman(['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfsTar, 'localhost/mine:1']);
    const setup = await user.mino(['setup', '--yes', '--skip-image']);
    expect(setup.exitCode, setup.stdout + setup.stderr).toBe(0);
    expect(line(setup.stdout, 'XDG_RUNTIME_DIR')).toMatch(/^\[FIXED\] +XDG_RUNTIME_DIR: chmod 0700 .* \(was 0711\)/);
    expect(runtimeDirMode()).toBe(0o700);
    expect(line(setup.stdout, 'Image storage')).toMatch(/^\[FIXED\] +Image storage: overlay, mino's own store/);

    const project = userDir(`${HOME}/own-image`);
    const first = await user.mino(
      ['run', '--network', 'none', '--image', 'localhost/mine:1', '--', 'sh', '-c', 'echo from-mine'],
      {
        cwd: project,
      },
    );
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toBe('from-mine\n');
    expect(first.stderr).toMatch(
      /^Copying localhost\/mine:1 \(\d+ MB\) from your podman store into mino's own store .* \(once; later runs use the copy\)\.\.\.\nCopied localhost\/mine:1 in \d+\.\d s\n/,
    );
    expect(user.podman(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toContain('localhost/mine:1'); // the user's stays

    const second = await user.mino(
      ['run', '--network', 'none', '--image', 'localhost/mine:1', '--', 'sh', '-c', 'echo again'],
      {
        cwd: project,
      },
    );
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stdout).toBe('again\n');
    expect(second.stderr).not.toContain('Copying');

    // The user rebuilds their image: the next run copies the new one.
    user.podman([
      'import',
      '-q',
      '--change',
      'CMD ["/bin/sh"]',
      '--change',
      'LABEL rebuilt=1',
      rootfsTar,
      'localhost/mine:1',
    ]);
    const third = await user.mino(
      ['run', '--network', 'none', '--image', 'localhost/mine:1', '--', 'sh', '-c', 'echo rebuilt'],
      {
        cwd: project,
      },
    );
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.stdout).toBe('rebuilt\n');
    expect(third.stderr).toMatch(/^Your podman store has another localhost\/mine:1 than mino's copy: copying it/);

    const missing = await user.mino(
      ['run', '--network', 'none', '--image', 'localhost/mino-nu-missing:1', '--', 'true'],
      { cwd: project },
    );
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /^Error: Image localhost\/mino-nu-missing:1 is not available locally \(neither in mino's own store nor in your podman store\)\nHint: Build or pull it into your podman store first \(podman pull localhost\/mino-nu-missing:1\); mino copies it into its own store \(.*\) on first use\. Or pass another --image\n$/,
    );
  });
});

describe.skipIf(!runnable)('a new rootless user whose setup cannot be completed [throwaway user]', () => {
  /** A second user: without sub-id ranges, which setup (not root) cannot add. */
  const bare = new ThrowawayUser(`mino-nv-${TEST_RUN}`.slice(0, 32));

  beforeAll(() => {
    bare.create();
    sh(['usermod', '--del-subuids', '1-4294967294', '--del-subgids', '1-4294967294', bare.name]);
  });

  afterAll(() => {
    bare.remove();
  });

  it('setup says what it skipped and why, and builds no mino-base after a failure', async () => {
    const r = await bare.mino(['setup', '--yes'], { timeoutMs: 60_000 });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^\[FAIL\] +\/etc\/subuid range for /m);
    expect(line(r.stdout, 'Image storage')).toMatch(
      /^\[SKIP\] +Image storage: not checked: the storage driver is decided once the checks above pass \(\/etc\/subuid range for .*failed\)$/,
    );
    expect(line(r.stdout, 'Base image')).toMatch(
      /^\[SKIP\] +Base image: not checked: mino-base is built once the checks above pass/,
    );
    expect(bare.podman(['images', '--format', '{{.Repository}}'], true)).not.toContain('mino-base');
  });
});
