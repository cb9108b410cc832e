import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errnoCode } from '../../../src/common/errno.js';
import {
  createExclusive,
  isStale,
  readHolder,
  releaseLock,
  removeIfHeldBy,
  tryAcquire,
  UNREADABLE_STALE_AFTER_MS,
} from '../../../src/common/file-lock.js';
import { pidAlive } from '../../../src/common/pid-alive.js';
import { processIdentity } from '../../../src/common/process-identity.js';

/** A fresh directory per test, and the lock path inside it. */
let dir = '';
let lock = '';
beforeEach(() => {
  [dir, lock] = freshLock();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function freshLock(): [string, string] {
  const d = mkdtempSync(join(tmpdir(), 'mino-lock-file-'));
  return [d, join(d, 'x.lock')];
}

const A = '11111111-2222-4333-8444-555555555555';
const B = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** PID of a process that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

function age(path: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  utimesSync(path, t, t);
}

describe('errnoCode / pidAlive', () => {
  it('reads the code of a system error and nothing else', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('ENOENT');
    expect(errnoCode(new Error('x'))).toBeUndefined();
    expect(errnoCode(undefined)).toBeUndefined();
  });

  it('tells live PIDs from dead ones', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(deadPid())).toBe(false);
  });

  it('counts a PID it may not signal (EPERM) as alive', () => {
    // PID 1 exists but belongs to root; when running as root kill(1, 0) just succeeds.
    expect(pidAlive(1)).toBe(true);
  });
});

describe('createExclusive / tryAcquire', () => {
  it('creates the file 0600 once, then reports it exists', () => {
    expect(createExclusive(lock, 'hello\n')).toBe(true);
    expect(readFileSync(lock, 'utf8')).toBe('hello\n');
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    expect(createExclusive(lock, 'other\n')).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe('hello\n');
  });

  it('writes `<pid>@<start time> <nonce>` and is exclusive', () => {
    expect(tryAcquire(lock, A)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toBe(`${processIdentity()} ${A}\n`);
    expect(processIdentity()).toMatch(new RegExp(`^${process.pid}@\\d+$`));
    expect(tryAcquire(lock, B)).toBe(false);
  });

  it('propagates errors other than EEXIST', () => {
    expect(() => createExclusive(join(dir, 'missing', 'x.lock'), '')).toThrow(/ENOENT/);
  });

  it('never leaves its file or a temporary behind, even when the lock is taken', () => {
    expect(createExclusive(lock, 'one\n')).toBe(true);
    expect(createExclusive(lock, 'two\n')).toBe(false);
    expect(readdirSync(dir)).toEqual(['x.lock']);
  });
});

describe('readHolder', () => {
  it('is undefined when there is no lock', () => {
    expect(readHolder(lock)).toBeUndefined();
  });

  it('reads the process identity (PID and start time) of a lock', () => {
    writeFileSync(lock, `4242@987 ${A}\n`);
    expect(readHolder(lock)).toMatchObject({ pid: 4242, owner: '4242@987', id: A });
  });

  it('reads the PID, nonce and age of a well-formed lock', () => {
    writeFileSync(lock, `4242 ${A}\n`);
    age(lock, 10_000);
    const h = readHolder(lock)!;
    expect(h.pid).toBe(4242);
    expect(h.id).toBe(A);
    expect(h.ageMs).toBeGreaterThanOrEqual(9_000);
    expect(h.ageMs).toBeLessThan(20_000);
  });

  it('identifies an empty or garbled lock by inode and mtime, without a PID', () => {
    writeFileSync(lock, '');
    const h = readHolder(lock)!;
    expect(h.pid).toBeUndefined();
    expect(h.id).toMatch(/^\d+-\d+$/);
    expect(readHolder(lock)!.id).toBe(h.id); // stable while untouched
    age(lock, 1000);
    expect(readHolder(lock)!.id).not.toBe(h.id); // a touch makes it another holder
    writeFileSync(lock, 'garbage');
    expect(readHolder(lock)!.pid).toBeUndefined();
  });
});

describe('isStale', () => {
  it('is stale when the PID is gone, or when the file is older than the limit', () => {
    const dead = deadPid();
    expect(isStale({ pid: process.pid, owner: processIdentity(), id: A, ageMs: 10 }, 1000)).toBe(false);
    expect(isStale({ pid: process.pid, owner: String(process.pid), id: A, ageMs: 10 }, 1000)).toBe(false);
    expect(isStale({ pid: dead, owner: String(dead), id: A, ageMs: 10 }, 1000)).toBe(true);
    expect(isStale({ pid: process.pid, owner: processIdentity(), id: A, ageMs: 1001 }, 1000)).toBe(true);
  });

  it('is stale when its PID now belongs to another process (other start time)', () => {
    const reused = `${process.pid}@1`;
    expect(processIdentity()).not.toBe(reused);
    expect(isStale({ pid: process.pid, owner: reused, id: A, ageMs: 10 }, 60_000)).toBe(true);
    writeFileSync(lock, `${reused} ${A}\n`);
    expect(isStale(readHolder(lock)!, 60_000)).toBe(true);
  });

  it(`judges a lock without a readable holder (empty, garbled) by its mtime: stale after ${UNREADABLE_STALE_AFTER_MS} ms`, () => {
    expect(isStale({ pid: undefined, owner: undefined, id: '1-2', ageMs: 10 }, 60_000)).toBe(false);
    expect(isStale({ pid: undefined, owner: undefined, id: '1-2', ageMs: UNREADABLE_STALE_AFTER_MS + 1 }, 60_000)).toBe(
      true,
    );
    expect(isStale({ pid: undefined, owner: undefined, id: '1-2', ageMs: 1001 }, 1000)).toBe(true);
  });
});

describe('removeIfHeldBy / releaseLock', () => {
  it('takes over the lock of a dead holder', () => {
    writeFileSync(lock, `${deadPid()} ${A}\n`);
    const h = readHolder(lock)!;
    expect(isStale(h, 60_000)).toBe(true);
    expect(removeIfHeldBy(lock, h.id)).toBe(true);
    expect(existsSync(lock)).toBe(false);
    expect(tryAcquire(lock, B)).toBe(true);
    expect(readHolder(lock)!.id).toBe(B);
  });

  it('leaves the lock alone when its holder changed between read and remove', () => {
    writeFileSync(lock, `${deadPid()} ${A}\n`);
    const stale = readHolder(lock)!;
    // Meanwhile another process broke that lock and took it.
    rmSync(lock);
    expect(tryAcquire(lock, B)).toBe(true);
    expect(removeIfHeldBy(lock, stale.id)).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe(`${processIdentity()} ${B}\n`);
  });

  it('leaves an empty lock alone once it was rewritten (inode/mtime id changed)', () => {
    writeFileSync(lock, '');
    const h = readHolder(lock)!;
    writeFileSync(lock, `${process.pid} ${B}\n`);
    expect(removeIfHeldBy(lock, h.id)).toBe(false);
    expect(existsSync(lock)).toBe(true);
  });

  it('returns false when the lock is already gone', () => {
    expect(removeIfHeldBy(lock, A)).toBe(false);
  });

  it('releases only its own lock and never throws', () => {
    writeFileSync(lock, `${process.pid} ${B}\n`);
    releaseLock(lock, A);
    expect(existsSync(lock)).toBe(true);
    releaseLock(lock, B);
    expect(existsSync(lock)).toBe(false);
    expect(() => releaseLock(lock, B)).not.toThrow();
    expect(() => releaseLock(join(dir, 'missing', 'x.lock'), B)).not.toThrow();
  });
});
