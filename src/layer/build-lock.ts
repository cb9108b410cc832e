import { randomUUID } from 'node:crypto';
import { statSync, unlinkSync, utimesSync } from 'node:fs';
import { MinoError } from '../common/errors.js';
import { createExclusive, isStale, type LockHolder, readHolder, releaseLock, removeIfHeldBy, tryAcquire } from '../common/lock-file.js';

/**
 * A cross-process lock held for as long as an image build takes (minutes), so that two `mino
 * run`s composing the same image build it once. The lock is a file created with O_EXCL holding
 * `<pid> <nonce>`. The holder touches it every {@link HEARTBEAT_MS}; a lock whose PID is gone, or
 * that has not been touched for {@link STALE_AFTER_MS} (holder frozen or PID reused), is broken.
 * Breaking is exclusive (a `<lock>.break` file created with O_EXCL) and re-checks the nonce, so
 * a lock re-taken meanwhile is never deleted. (src/session/file-lock.ts is the synchronous
 * sibling for millisecond critical sections.)
 */

/** How often the holder refreshes the lock's mtime. */
export const HEARTBEAT_MS = 5_000;
/** A lock not refreshed for this long is stale. */
export const STALE_AFTER_MS = 30_000;

/** Options of {@link withBuildLock}. */
export interface BuildLockOptions {
  /** Give up waiting after this many milliseconds (default 30 minutes). */
  timeoutMs?: number;
  /** What is locked, for messages (e.g. `image localhost/mino-composed-…`). */
  what?: string;
  /** Called once when the lock is held by someone else and this process starts waiting. */
  onWait?: () => void;
  /** Stops waiting (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Poll interval while waiting (default 250 ms). */
  pollMs?: number;
}

/** Breaks the stale holder `h` unless another process is breaking the lock right now. */
function breakStale(path: string, h: LockHolder): void {
  const marker = `${path}.break`;
  try {
    // A breaker that died leaves its marker: it is old news after a while.
    if (Date.now() - statSync(marker).mtimeMs > STALE_AFTER_MS) unlinkSync(marker);
  } catch {
    // no marker
  }
  if (!createExclusive(marker, `${process.pid}\n`)) return;
  try {
    removeIfHeldBy(path, h.id);
  } finally {
    try {
      unlinkSync(marker);
    } catch {
      // already gone
    }
  }
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
 * Runs `fn` while holding the lock file `lockPath` (its directory must exist). Waits for another
 * holder up to `timeoutMs`, then throws a MinoError. The lock is released when `fn` settles.
 */
export async function withBuildLock<T>(lockPath: string, fn: () => Promise<T>, options: BuildLockOptions = {}): Promise<T> {
  const nonce = randomUUID();
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let waited = false;
  while (!tryAcquire(lockPath, nonce)) {
    const holder = readHolder(lockPath);
    if (holder && isStale(holder, STALE_AFTER_MS)) {
      breakStale(lockPath, holder);
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    if (Date.now() > deadline) {
      throw new MinoError(`Timed out waiting for another mino process to build ${options.what ?? lockPath}${holder?.pid ? ` (process ${holder.pid})` : ''}`, {
        hint: `If no mino process is building, delete ${lockPath}`,
      });
    }
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
    // Never someone else's; a leftover lock of a dead process is broken by the next waiter.
    releaseLock(lockPath, nonce);
  }
}
