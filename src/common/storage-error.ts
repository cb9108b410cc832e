import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from './errno.js';
import { MinoError } from './errors.js';

/**
 * A file system refusing mino's own files (a full or read-only state directory, one that belongs
 * to someone else) is not a bug in mino: it becomes one `Error:` naming the directory and the
 * cause, and a `Hint:` saying what to do.
 */

/** What each errno means for the user, and what to do about it. */
const CAUSES: Readonly<Record<string, { why: string; hint: (dir: string) => string }>> = {
  ENOSPC: {
    why: 'the file system is full',
    hint: (dir) => `Free space on the file system of ${dir} (df -h ${dir}), then run the command again`,
  },
  EDQUOT: {
    why: 'your disk quota is used up',
    hint: (dir) => `Free space under your quota (quota -s), then run the command again; ${dir} is where mino writes`,
  },
  EROFS: { why: 'the file system is read-only', hint: (dir) => `Remount the file system of ${dir} read-write` },
  EACCES: {
    why: 'permission denied',
    hint: (dir) =>
      `mino must be able to write ${dir}: check its owner and mode (ls -ld ${dir}); it should belong to the user running mino`,
  },
  EPERM: {
    why: 'operation not permitted',
    hint: (dir) =>
      `mino must be able to write ${dir}: check its owner, mode and attributes (ls -ld ${dir}; lsattr -d ${dir})`,
  },
};

/** System calls on files (Node's names), the ones whose refusal is the file system's. */
const FILE_SYSCALLS = new Set([
  'open',
  'write',
  'read',
  'close',
  'fsync',
  'fdatasync',
  'ftruncate',
  'mkdir',
  'mkdtemp',
  'rename',
  'link',
  'symlink',
  'unlink',
  'rmdir',
  'rm',
  'copyfile',
  'utime',
  'futime',
  'chmod',
  'fchmod',
  'chown',
  'fchown',
  'access',
  'scandir',
  'opendir',
  'stat',
  'lstat',
  'fstat',
  'realpath',
]);

/** One of mino's directories, for naming it in the error. */
export interface NamedDir {
  /** E.g. `mino's state directory`. */
  label: string;
  path: string;
  /** The variable that moves it, e.g. `XDG_STATE_HOME`. */
  variable?: string;
}

/** The errno codes turned into a {@link storageError}. */
export const STORAGE_ERRNOS: readonly string[] = Object.keys(CAUSES);

/**
 * The clear error for a file system failure `err` (ENOSPC, EDQUOT, EROFS, EACCES, EPERM on a file
 * operation), naming the one of `dirs` that holds the failing path; undefined for any other error
 * (including a program that could not be started).
 */
export function storageError(err: unknown, dirs: readonly NamedDir[]): MinoError | undefined {
  err = mkdirCause(err);
  const code = errnoCode(err);
  const cause = code === undefined ? undefined : CAUSES[code];
  if (cause === undefined) return undefined;
  const e = err as NodeJS.ErrnoException;
  // Only file operations: not a program that could not start, not a signal to another user's process.
  if (typeof e.syscall === 'string' && !FILE_SYSCALLS.has(e.syscall)) return undefined;
  const path = typeof e.path === 'string' ? e.path : undefined;
  const named = path === undefined ? undefined : dirs.find((d) => path === d.path || path.startsWith(`${d.path}/`));
  const dir = named?.path ?? (path === undefined ? undefined : dirname(path));
  const where = named ? `${named.label} ${named.path}` : (dir ?? 'a file');
  const file = path !== undefined && path !== named?.path ? ` (${path})` : '';
  const moved = named?.variable ? `, or set ${named.variable} to a directory on another file system` : '';
  const hint =
    dir === undefined
      ? `Check the file systems of mino's directories: ${dirs.map((d) => d.path).join(', ')}`
      : `${cause.hint(dir)}${moved}`;
  return new MinoError(`Cannot write to ${where}${file}: ${cause.why} (${code})`, { hint, cause: err });
}

/**
 * A recursive mkdir on a read-only or foreign parent reports ENOENT for the missing directory,
 * not why it could not be made: the first existing ancestor's own refusal (EROFS, EACCES) is the
 * cause then, with that ancestor as the path. Any other error is returned as it is.
 */
function mkdirCause(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (errnoCode(err) !== 'ENOENT' || e.syscall !== 'mkdir' || typeof e.path !== 'string') return err;
  let dir = dirname(e.path);
  while (!existsSync(dir) && dir !== dirname(dir)) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return err;
  } catch (cause) {
    return errnoCode(cause) === undefined
      ? err
      : Object.assign(cause as NodeJS.ErrnoException, { syscall: 'mkdir', path: e.path });
  }
}
