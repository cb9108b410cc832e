import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IN_CI, IS_ROOT, TEST_RUN, hasPodman } from '../../helpers/test-env.js';
import { ThrowawayUser } from '../../helpers/throwaway-user.js';

/**
 * mino as a brand-new rootless user meets it, on a throwaway user of this file's own (a fresh
 * account, a fresh 0700 XDG_RUNTIME_DIR, no mino-base: nothing here builds it): a run before
 * setup, what status and setup say about the runtime directory, and a vfs user's own images once
 * mino keeps its images in a store of its own.
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

function runtimeDirMode(): number {
  return statSync(`/run/user/${user.uid}`).mode & 0o777;
}

describe.skipIf(!runnable)('a brand-new rootless user [throwaway user]', () => {
  beforeAll(() => {
    user.create();
  });

  afterAll(() => {
    user.remove();
  });

  it('a run before setup: one Error and a Hint to run setup, and no volume left in the store', async () => {
    const project = userDir(`${HOME}/before-setup`);
    const r = await user.mino(['run', '--', 'true'], { cwd: project });
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toBe("Error: Image localhost/mino-base:latest is not available locally\nHint: Run 'mino setup --yes' to build it (a few minutes, once), or pass --image <local image>\n");
    expect(user.podman(['volume', 'ls', '--format', '{{.Name}}'])).toBe('');
  });
});
