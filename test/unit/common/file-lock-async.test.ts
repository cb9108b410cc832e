import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  LONG_STALE_AFTER_MS as STALE_AFTER_MS,
  withFileLockAsync as withBuildLock,
} from '../../../src/common/file-lock.js';

let dir: string;
let lock: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-build-lock-'));
  lock = join(dir, 'x.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** PID of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('build lock', () => {
  it('lets one holder in at a time and tells waiters they wait', async () => {
    const events: string[] = [];
    let waits = 0;
    const job = (name: string) =>
      withBuildLock(
        lock,
        async () => {
          events.push(`${name} in`);
          await sleep(150);
          events.push(`${name} out`);
          return name;
        },
        { pollMs: 20, onWait: () => waits++ },
      );
    const results = await Promise.all([job('a'), job('b'), job('c')]);
    expect(results).toEqual(['a', 'b', 'c']);
    for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]!.replace(' in', ' out'));
    expect(waits).toBe(2);
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when the holder fails', async () => {
    await expect(
      withBuildLock(lock, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('breaks a lock whose process is gone', async () => {
    writeFileSync(lock, `${deadPid()} 00000000-0000-4000-8000-000000000000\n`);
    let waited = false;
    expect(
      await withBuildLock(lock, async () => 'ran', {
        timeoutMs: 2000,
        onWait: () => {
          waited = true;
        },
      }),
    ).toBe('ran');
    expect(waited).toBe(false);
  });

  it('breaks a lock not refreshed for a long time even if its PID exists (PID reuse)', async () => {
    writeFileSync(lock, `${process.ppid} 00000000-0000-4000-8000-000000000000\n`);
    const old = new Date(Date.now() - STALE_AFTER_MS - 5000);
    utimesSync(lock, old, old);
    expect(await withBuildLock(lock, async () => 'ran', { timeoutMs: 2000 })).toBe('ran');
  });

  it('waits for a live holder and times out with a hint naming the lock file', async () => {
    writeFileSync(lock, `${process.ppid} 00000000-0000-4000-8000-000000000000\n`);
    const err = await withBuildLock(lock, async () => 'ran', { timeoutMs: 300, pollMs: 20, what: 'image x' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toContain(`the lock of image x (held by process ${process.ppid})`);
    expect((err as MinoError).hint).toContain(lock);
    expect(existsSync(lock)).toBe(true); // someone else's lock is left alone
  });

  it('stops waiting when aborted', async () => {
    writeFileSync(lock, `${process.ppid} 00000000-0000-4000-8000-000000000000\n`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 100);
    await expect(withBuildLock(lock, async () => 'ran', { pollMs: 20, signal: controller.signal })).rejects.toThrow(
      'interrupted',
    );
  });
});
