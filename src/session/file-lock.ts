import { randomUUID } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { MinoError } from '../common/errors.js';
import { isStale, type LockHolder, readHolder, releaseLock, removeIfHeldBy, tryAcquire } from '../common/lock-file.js';

/**
 * A tiny cross-process lock file for short synchronous critical sections (a few file reads and
 * one rename). Node has no flock(2), so the lock is a file created with O_EXCL holding
 * `<pid> <nonce>`; whoever creates it holds the lock, releasing deletes it.
 *
 * A holder that died inside its critical section leaves the file behind. It is broken when its
 * PID no longer exists (or the file is older than {@link STALE_AFTER_MS}, against PID reuse).
 * Breaking is itself made exclusive: the breaker first creates `<lock>.<nonce>.broken` with
 * O_EXCL (only one process can break a given holder), re-reads the lock, and deletes it only if
 * it still holds that same nonce, so a lock re-taken meanwhile by a live process is never
 * deleted. If a breaker dies in the middle (its marker stays), waiters time out with a hint
 * naming the files to delete instead of guessing.
 */

/** A lock older than this is stale even if its PID exists (critical sections last milliseconds). */
export const STALE_AFTER_MS = 60_000;

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up after this many milliseconds (default 5000). */
  timeoutMs?: number;
  /** What is being locked, for the error message (e.g. `session 'x'`). */
  what?: string;
}

// Created on first use: SharedArrayBuffer does not exist while the single executable's start-up
// snapshot is built, and module-level code runs then.
let sleeper: Int32Array | undefined;

function sleepSync(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Breaks a stale lock if no one else is breaking it; returns true when it tried. */
function breakStale(lockPath: string, h: LockHolder, nonce: string): boolean {
  const marker = `${lockPath}.${h.id}.broken`;
  if (!tryAcquire(marker, nonce)) return false;
  try {
    removeIfHeldBy(lockPath, h.id);
  } finally {
    unlinkSync(marker);
  }
  return true;
}

/**
 * Runs `fn` while holding the lock file `lockPath` (created 0600 in an existing directory).
 * Waits up to `timeoutMs` for another holder; throws a MinoError when the wait times out.
 * `fn` must be synchronous: the lock is released as soon as it returns or throws.
 */
export function withFileLock<T>(lockPath: string, fn: () => T, options: FileLockOptions = {}): T {
  const nonce = randomUUID();
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  let holder: LockHolder | undefined;
  while (!tryAcquire(lockPath, nonce)) {
    holder = readHolder(lockPath);
    if (holder && isStale(holder, STALE_AFTER_MS) && breakStale(lockPath, holder, nonce)) continue;
    if (Date.now() > deadline) {
      throw new MinoError(`Timed out waiting for the lock of ${options.what ?? lockPath}${holder?.pid ? ` (held by process ${holder.pid})` : ''}`, {
        hint: `If no mino process is running, delete ${lockPath} and any ${lockPath}.*.broken file`,
      });
    }
    sleepSync(1 + Math.floor(Math.random() * 4));
  }
  try {
    return fn();
  } finally {
    // Delete only our own lock (it could have been broken as stale after STALE_AFTER_MS); a
    // leftover lock of a live PID ages out after STALE_AFTER_MS.
    releaseLock(lockPath, nonce);
  }
}
