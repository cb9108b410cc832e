import { closeSync, fstatSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/**
 * Primitives shared by mino's cross-process lock files (src/session/file-lock.ts for short
 * synchronous critical sections, src/layer/build-lock.ts for image builds). Node has no
 * flock(2), so a lock is a file created with O_EXCL holding `<pid> <nonce>\n`; whoever creates it
 * holds the lock. Waiting, breaking policy (markers) and timeouts belong to the callers.
 */

/** The `code` of a Node system error (`ENOENT`, `EEXIST`, …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Whether a process with this PID exists (EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** Creates `path` (0600) with O_EXCL and writes `content`; false when it already exists. */
export function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Tries once to take the lock `lockPath` for this process, tagged with `nonce`. */
export function tryAcquire(lockPath: string, nonce: string): boolean {
  return createExclusive(lockPath, `${process.pid} ${nonce}\n`);
}

/** Who holds a lock file, as read by {@link readHolder}. */
export interface LockHolder {
  /** The holder's PID; undefined while the file is empty or garbled (being written). */
  pid: number | undefined;
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
    const m = /^(\d+) ([0-9a-f-]{36})\n$/.exec(readFileSync(fd, 'utf8'));
    return {
      pid: m ? Number(m[1]) : undefined,
      id: m?.[2] ?? `${st.ino}-${st.mtimeNs}`,
      ageMs: Date.now() - Number(st.mtimeMs),
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether a holder may be broken: its file is older than `staleAfterMs` (frozen holder or PID
 * reuse), or it names a PID that no longer exists. A file without a PID yet is only stale by age.
 */
export function isStale(holder: LockHolder, staleAfterMs: number): boolean {
  if (holder.ageMs > staleAfterMs) return true;
  return holder.pid !== undefined && !pidAlive(holder.pid);
}

/**
 * Deletes `lockPath` only if it still holds the holder `id` (a lock re-taken meanwhile is left
 * alone); returns true when it deleted it. Callers make this exclusive (a marker file) when
 * several processes may remove the same holder.
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
