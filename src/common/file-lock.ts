import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, fstatSync, linkSync, openSync, readFileSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeNewFile } from './atomic-write.js';
import { errnoCode, withPath } from './errno.js';
import { MinoError } from './errors.js';
import { identityAlive, processIdentity } from './process-identity.js';

/**
 * mino's one cross-process lock. Node has no flock(2), so a lock is a file that appears complete
 * (see {@link createExclusive}) holding `<pid>@<start time> <nonce>\n`; whoever creates it holds
 * the lock, releasing deletes it (only if it still holds our nonce). Two ways to hold it:
 * - {@link withFileLock}: synchronous, for critical sections of a few file operations (session
 *   records, JSON record directories); stale after {@link SHORT_STALE_AFTER_MS}.
 * - {@link withFileLockAsync}: for work that takes minutes (image builds); the holder touches the
 *   file every {@link HEARTBEAT_MS} and it is stale after {@link LONG_STALE_AFTER_MS} untouched.
 *
 * A holder that died leaves its file behind. It is broken when its process no longer exists (PID
 * and start time, so a recycled PID does not keep it), or the file is older than the stale limit
 * (frozen holder). A file without a readable holder (empty or garbled: a crash of an older mino
 * between create and write, a full disk, a stray file) is judged by its mtime alone, like
 * proper-lockfile does, and is stale after {@link UNREADABLE_STALE_AFTER_MS}: no holder of ours
 * leaves one visible for longer than a write takes. Breaking is exclusive: the breaker first
 * creates `<lock>.<holder id>.broken` (one breaker per holder), re-reads the lock and deletes it
 * only if it still names that holder, so a lock re-taken meanwhile by a live process is never
 * deleted. A marker left by a breaker that died ages out after the stale limit too.
 *
 * Why not the proper-lockfile package: its locks are directories judged by mtime only, its
 * synchronous API cannot wait for a holder (our session records are locked in synchronous code),
 * and it brings three more dependencies; staleness by mtime is the one idea taken from it.
 */

/** A synchronous lock older than this is stale even if its process exists (sections last milliseconds). */
export const SHORT_STALE_AFTER_MS = 60_000;
/** How often the holder of an async lock refreshes the file's mtime. */
const HEARTBEAT_MS = 5_000;
/** An async lock not refreshed for this long is stale. */
export const LONG_STALE_AFTER_MS = 30_000;
/** A lock file without a readable holder (empty, garbled) not modified for this long is stale. */
export const UNREADABLE_STALE_AFTER_MS = 2_000;

/** errno codes of filesystems that do not support hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Creates `path` (0600) holding `content`; false when it already exists. The content is written
 * under a temporary name first and then hard-linked to `path`: link(2) fails with EEXIST like
 * O_EXCL, but the file appears complete, so no reader ever sees it empty, and a write that fails
 * (a full disk) leaves nothing behind. Filesystems without hard links fall back to an O_EXCL
 * create, removed again when its write fails.
 */
export function createExclusive(path: string, content: string): boolean {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeNewFile(tmp, content);
  } catch (err) {
    throw withPath(err, path, true); // the lock, not its temporary, in what the user reads
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    if (!NO_LINKS.has(errnoCode(err) ?? '')) throw err;
  } finally {
    unlinkSync(tmp);
  }
  try {
    writeNewFile(path, content);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/** Tries once to take the lock `lockPath` for this process, tagged with `nonce`. */
export function tryAcquire(lockPath: string, nonce: string): boolean {
  return createExclusive(lockPath, `${processIdentity()} ${nonce}\n`);
}

/** Who holds a lock file, as read by {@link readHolder}. */
export interface LockHolder {
  /** The holder's PID; undefined when the file is empty or garbled. */
  pid: number | undefined;
  /** The holder's process identity (`<pid>@<start time>`, or `<pid>` from older minos). */
  owner: string | undefined;
  /** The holder's nonce, or for an empty/garbled file its inode and mtime. */
  id: string;
  /** Milliseconds since the file was last modified. */
  ageMs: number;
}

/** Reads the holder of the lock file `lockPath`; undefined when the file is gone. */
export function readHolder(lockPath: string): LockHolder | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, 'r');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    const m = /^((\d+)(?:@\d+)?) ([0-9a-f-]{36})\n$/.exec(readFileSync(fd, 'utf8'));
    return {
      pid: m ? Number(m[2]) : undefined,
      owner: m?.[1],
      id: m?.[3] ?? `${st.ino}-${st.mtimeNs}`,
      ageMs: Date.now() - Number(st.mtimeMs),
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a holder may be broken: its file is older than `staleAfterMs` (frozen holder), or its
 * process no longer exists (PID gone, or recycled: another start time). A file without a readable
 * holder is judged by its age alone, stale after {@link UNREADABLE_STALE_AFTER_MS}.
 */
export function isStale(holder: LockHolder, staleAfterMs: number): boolean {
  if (holder.ageMs > staleAfterMs) return true;
  if (holder.owner === undefined) return holder.ageMs > Math.min(UNREADABLE_STALE_AFTER_MS, staleAfterMs);
  return !identityAlive(holder.owner);
}

/**
 * Deletes `lockPath` only if it still holds the holder `id` (a lock re-taken meanwhile is left
 * alone); returns true when it deleted it.
 */
export function removeIfHeldBy(lockPath: string, id: string): boolean {
  if (readHolder(lockPath)?.id !== id) return false;
  unlinkSync(lockPath);
  return true;
}

/** Releases our lock (the one tagged `nonce`), never someone else's; never throws. */
export function releaseLock(lockPath: string, nonce: string): void {
  try {
    removeIfHeldBy(lockPath, nonce);
  } catch {
    // Nothing sensible to do: a leftover lock ages out or is broken by the next waiter.
  }
}

/** Breaks the stale holder `h` unless another process is breaking it; true when this one tried. */
function breakStale(lockPath: string, h: LockHolder, nonce: string, staleAfterMs: number): boolean {
  const marker = `${lockPath}.${h.id}.broken`;
  try {
    // The marker of a breaker that died is old news after a while.
    if (Date.now() - statSync(marker).mtimeMs > staleAfterMs) unlinkSync(marker);
  } catch {
    // no marker
  }
  if (!tryAcquire(marker, nonce)) return false;
  try {
    removeIfHeldBy(lockPath, h.id);
  } finally {
    try {
      unlinkSync(marker);
    } catch {
      // already gone
    }
  }
  return true;
}

/** One attempt: take the lock, or break a stale holder (then `retry`), or report the holder. */
function attempt(
  lockPath: string,
  nonce: string,
  staleAfterMs: number,
): { acquired: true } | { acquired: false; retry: boolean; holder: LockHolder | undefined } {
  if (tryAcquire(lockPath, nonce)) return { acquired: true };
  const holder = readHolder(lockPath);
  const retry =
    holder === undefined || (isStale(holder, staleAfterMs) && breakStale(lockPath, holder, nonce, staleAfterMs));
  return { acquired: false, retry, holder };
}

function timeoutError(lockPath: string, what: string, holder: LockHolder | undefined): MinoError {
  return new MinoError(
    `Timed out waiting for the lock of ${what}${holder?.pid ? ` (held by process ${holder.pid})` : ''}`,
    {
      hint: `If no mino process is running, delete ${lockPath} and any ${lockPath}.*.broken file`,
    },
  );
}

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

/**
 * Runs `fn` while holding the lock file `lockPath` (created 0600 in an existing directory).
 * Waits up to `timeoutMs` for another holder; throws a MinoError when the wait times out.
 * `fn` must be synchronous: the lock is released as soon as it returns or throws.
 */
export function withFileLock<T>(lockPath: string, fn: () => T, options: FileLockOptions = {}): T {
  const nonce = randomUUID();
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const a = attempt(lockPath, nonce, SHORT_STALE_AFTER_MS);
    if (a.acquired) break;
    if (a.retry) continue;
    if (Date.now() > deadline) throw timeoutError(lockPath, options.what ?? lockPath, a.holder);
    sleepSync(1 + Math.floor(Math.random() * 4));
  }
  try {
    return fn();
  } finally {
    releaseLock(lockPath, nonce);
  }
}

/** Options of {@link withFileLockAsync}. */
export interface AsyncFileLockOptions extends FileLockOptions {
  /** Called once when the lock is held by someone else and this process starts waiting. */
  onWait?: () => void;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Poll interval while waiting (default 250 ms). */
  pollMs?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` while holding the lock file `lockPath` (its directory must exist) for as long as `fn`
 * takes, refreshing it every {@link HEARTBEAT_MS}. Waits for another holder up to `timeoutMs`
 * (default 30 minutes), then throws a MinoError. The lock is released when `fn` settles.
 */
export async function withFileLockAsync<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: AsyncFileLockOptions = {},
): Promise<T> {
  const nonce = randomUUID();
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let waited = false;
  for (;;) {
    const a = attempt(lockPath, nonce, LONG_STALE_AFTER_MS);
    if (a.acquired) break;
    if (a.retry) continue;
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    if (Date.now() > deadline) throw timeoutError(lockPath, options.what ?? lockPath, a.holder);
    await sleep((options.pollMs ?? 250) + Math.floor(Math.random() * 50), options.signal);
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      if (readHolder(lockPath)?.id === nonce) utimesSync(lockPath, now, now);
    } catch {
      // The next beat tries again; a lock lost meanwhile is not ours to recreate.
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    releaseLock(lockPath, nonce);
  }
}
