import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TEST_RUN } from './test-env.js';

/**
 * What test files that run at the same time (vitest runs several files at once) must not share:
 * - `throwaway-users`: creating and deleting Unix users (useradd/userdel lock /etc/passwd, and
 *   the sub-id ranges are picked from /etc/subuid).
 * - `image-store`: removing or retagging images of the shared engines (the files of the first
 *   group in vitest.config.ts, which run beside the unit tests and files on engines of their own
 *   only: podman 4.3 fails an image listing while another command removes an image).
 * - `remote-rig`: the test run's one remote engine (test/helpers/remote-engine-rig.ts
 *   useRemoteRig): its files check and empty the whole engine.
 */
export type SharedResource = 'throwaway-users' | 'image-store' | 'remote-rig';

/** Directory whose existence is the lock of `resource` for this test run. */
function lockDir(resource: SharedResource): string {
  return join(tmpdir(), `mino-test-lock-${TEST_RUN}-${resource}`);
}

function holderAlive(dir: string): boolean {
  try {
    process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 0);
    return true;
  } catch (err) {
    // EPERM: the process lives but is not ours to signal; no pid file yet: being taken right now.
    return (err as NodeJS.ErrnoException).code === 'EPERM' || (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Takes the lock of `resource` (waits while another worker of this run holds it). */
export async function acquire(resource: SharedResource): Promise<void> {
  const dir = lockDir(resource);
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!holderAlive(dir)) rmSync(dir, { recursive: true, force: true }); // a worker that died holding it
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Gives the lock of `resource` back. */
export function release(resource: SharedResource): void {
  rmSync(lockDir(resource), { recursive: true, force: true });
}

/**
 * Makes the calling test file hold `resource` from before its first test to after its last
 * cleanup: call it at the top level of the file, before its describe blocks (or first thing in
 * one describe block, for that block only).
 */
export function exclusive(resource: SharedResource): void {
  beforeAll(() => acquire(resource), 30 * 60_000);
  afterAll(() => release(resource));
}
