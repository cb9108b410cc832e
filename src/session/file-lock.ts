import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { MinoError } from '../common/errors.js';

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

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === 'EPERM';
  }
}

interface Holder {
  pid: number | undefined;
  /** The holder's nonce, or for an empty/garbled file its inode and mtime. */
  id: string;
  /** True when `id` is a nonce written by {@link withFileLock}. */
  wellFormed: boolean;
  ageMs: number;
}

/** Reads the lock file; undefined when it is gone. */
function readHolder(lockPath: string): Holder | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, 'r');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const text = readFileSync(fd, 'utf8');
    const m = /^(\d+) ([0-9a-f-]{36})\n$/.exec(text);
    return {
      pid: m ? Number(m[1]) : undefined,
      id: m?.[2] ?? `${st.ino}-${st.mtimeNs}`,
      wellFormed: m !== null,
      ageMs: Date.now() - Number(st.mtimeMs),
    };
  } finally {
    closeSync(fd);
  }
}

function tryCreate(lockPath: string, nonce: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (err) {
    if (code(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid} ${nonce}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function isStale(h: Holder): boolean {
  if (h.ageMs > STALE_AFTER_MS) return true;
  // A lock without content is being written (or its writer died right after creating it).
  if (!h.wellFormed || h.pid === undefined) return false;
  return !pidAlive(h.pid);
}

/** Breaks a stale lock if no one else is breaking it; returns true when it tried. */
function breakStale(lockPath: string, h: Holder, nonce: string): boolean {
  const marker = `${lockPath}.${h.id}.broken`;
  if (!tryCreate(marker, nonce)) return false;
  try {
    if (readHolder(lockPath)?.id === h.id) unlinkSync(lockPath);
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
  let holder: Holder | undefined;
  while (!tryCreate(lockPath, nonce)) {
    holder = readHolder(lockPath);
    if (holder && isStale(holder) && breakStale(lockPath, holder, nonce)) continue;
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
    // Delete only our own lock (it could have been broken as stale after STALE_AFTER_MS).
    try {
      if (readHolder(lockPath)?.id === nonce) unlinkSync(lockPath);
    } catch {
      // Nothing sensible to do; a leftover lock of a live PID ages out after STALE_AFTER_MS.
    }
  }
}
