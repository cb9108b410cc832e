import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  SHORT_STALE_AFTER_MS as STALE_AFTER_MS,
  UNREADABLE_STALE_AFTER_MS,
  withFileLock,
} from '../../../src/common/file-lock.js';

let dir: string;
let lock: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-file-lock-'));
  lock = join(dir, '.demo.lock');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const NONCE = '11111111-2222-4333-8444-555555555555';

/** PID of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function timeoutError(fn: () => unknown): MinoError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MinoError);
    return err as MinoError;
  }
  throw new Error('did not time out');
}

describe('withFileLock', () => {
  it('holds the lock file (pid, start time and nonce, 0600) while fn runs and deletes it after', () => {
    const seen = withFileLock(lock, () => readFileSync(lock, 'utf8'));
    expect(seen).toMatch(new RegExp(`^${process.pid}@\\d+ [0-9a-f-]{36}\\n$`));
    expect(existsSync(lock)).toBe(false);
  });

  it('releases the lock when fn throws', () => {
    expect(() =>
      withFileLock(lock, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for a live holder and then times out with a hint naming the lock file', () => {
    writeFileSync(lock, `${process.pid} ${NONCE}\n`);
    let ran = false;
    const start = Date.now();
    const err = timeoutError(() => withFileLock(lock, () => (ran = true), { timeoutMs: 150, what: "session 'demo'" }));
    expect(Date.now() - start).toBeGreaterThanOrEqual(150);
    expect(ran).toBe(false);
    expect(err.message).toBe(`Timed out waiting for the lock of session 'demo' (held by process ${process.pid})`);
    expect(err.hint).toContain(lock);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${NONCE}\n`); // never deleted
  });

  it('breaks the lock of a holder that died, and leaves no marker behind', () => {
    writeFileSync(lock, `${deadPid()} ${NONCE}\n`);
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 1000 })).toBe('ran');
    expect(readdirSync(dir)).toEqual([]);
  });

  it(`breaks a lock older than ${STALE_AFTER_MS / 1000} s even if its PID exists (PID reuse)`, () => {
    writeFileSync(lock, `${process.pid} ${NONCE}\n`);
    const old = (Date.now() - STALE_AFTER_MS - 5000) / 1000;
    utimesSync(lock, old, old);
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it("does not break a dead holder's lock while another breaker holds the marker", () => {
    writeFileSync(lock, `${deadPid()} ${NONCE}\n`);
    writeFileSync(`${lock}.${NONCE}.broken`, '');
    const err = timeoutError(() => withFileLock(lock, () => 'ran', { timeoutMs: 100 }));
    expect(err.hint).toContain('.broken');
    expect(existsSync(lock)).toBe(true);
  });

  it('waits for a fresh lock without a holder, but breaks it once it is a few seconds old', () => {
    writeFileSync(lock, '');
    timeoutError(() => withFileLock(lock, () => 'ran', { timeoutMs: 100 }));
    const old = (Date.now() - UNREADABLE_STALE_AFTER_MS - 1000) / 1000;
    utimesSync(lock, old, old);
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 1000 })).toBe('ran');
  });

  it('recovers the 0-byte lock a full disk or a crash left (no 60 s wait, no hand deletion)', () => {
    // What mino stop left on a full disk: the lock created, its content never written.
    writeFileSync(lock, '');
    const old = (Date.now() - 5000) / 1000;
    utimesSync(lock, old, old);
    expect(withFileLock(lock, () => 'ran', { timeoutMs: 1000, what: "session 'x'" })).toBe('ran');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('does not delete a lock that is no longer its own when releasing', () => {
    withFileLock(lock, () => writeFileSync(lock, `${process.pid} ${NONCE}\n`));
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} ${NONCE}\n`);
  });
});
