import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { withPath } from './errno.js';
import { traceSpan } from './trace.js';

/** Options for {@link writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** File mode of the new file (default 0o644). */
  mode?: number;
  /** Create missing parent directories with this mode (default: do not create). */
  mkdirMode?: number;
  /**
   * Flush to disk before and after the rename (default true). False for files that can be
   * recomputed or only report (counters, indexes, markers): still never torn, but a crash may
   * bring back the previous content, and no disk flush (~10 ms here) stalls the run.
   */
  durable?: boolean;
}

/**
 * Replaces `path` with `data` so that readers see either the old or the new content, never a
 * torn file: write a temporary sibling, fsync it, rename it over the target, fsync the directory
 * (the fsyncs only when `durable`, the default).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = dirname(path);
  // Durable writes wait for the disk: the ones a timeline should show.
  const end = options.durable === false ? undefined : traceSpan('durable write', path);
  if (options.mkdirMode !== undefined) mkdirSync(dir, { recursive: true, mode: options.mkdirMode });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', options.mode ?? 0o644);
  } catch (err) {
    throw withPath(err, path, true); // the file meant, not its temporary, in what the user reads
  }
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (options.durable !== false) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw withPath(err, path, true);
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
  if (options.durable === false) return;
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Directory fsync is best effort (not supported on every filesystem).
  }
  end?.();
}

/**
 * Creates the new file `path` (O_EXCL, 0600) holding `text`, flushed to disk when `durable`; a
 * failed write (a full disk) leaves no file behind, so a reader never finds it half written.
 */
export function writeNewFile(path: string, text: string, durable = false): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(path);
    } catch {
      // The write error is the one to report.
    }
    throw withPath(err, path);
  }
  closeSync(fd);
}
