import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { errnoCode } from './errno.js';

/**
 * Reading a file of a project on the host, where the agent may have planted anything: the last
 * component is opened with O_NOFOLLOW (a symbolic link is refused, never followed out of the
 * project), O_NONBLOCK (a FIFO never blocks mino) and the result must be a regular file no larger
 * than a cap (a link to /dev/zero or a huge file never fills mino's memory). Directories between
 * the project and the file must be real directories (lstat), so a planted `.mino -> ~/.ssh` does
 * not lead out either. (libuv adds O_CLOEXEC.) Costs what a plain read costs: one open (a failed one when the file is
 * absent), one fstat, the reads, one close, plus one lstat per intermediate directory.
 */

/** Why a project file was not read. */
export type ProjectFileRefusal = 'symlink' | 'not-regular' | 'too-large' | 'parent-symlink';

/** The outcome of {@link readProjectFile}. */
export type ProjectFileRead =
  | { kind: 'file'; bytes: Buffer; mode: number }
  | { kind: 'missing' }
  | { kind: 'refused'; reason: ProjectFileRefusal; size?: number };

/** Options of {@link readProjectFile}. */
export interface ProjectFileOptions {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /**
   * Canonical directory the path lies in (the project): every directory between it and the file
   * is checked with lstat. Default: only the last component is checked.
   */
  root?: string;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function parentsAreDirectories(root: string, path: string): boolean {
  if (!path.startsWith(`${root}/`)) return true;
  const parts = path
    .slice(root.length + 1)
    .split('/')
    .slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = `${dir}/${part}`;
    try {
      if (!lstatSync(dir).isDirectory()) return false;
    } catch {
      return true; // missing: the open reports it
    }
  }
  return true;
}

/**
 * Reads `path` as a project file (see the module comment). Other errors (EACCES, EIO) are thrown
 * as they come.
 */
export function readProjectFile(path: string, options: ProjectFileOptions): ProjectFileRead {
  if (options.root !== undefined && !parentsAreDirectories(options.root, path))
    return { kind: 'refused', reason: 'parent-symlink' };
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'refused', reason: 'symlink' };
    // A FIFO without a writer opens fine with O_NONBLOCK; a socket cannot be opened at all.
    if (code === 'ENXIO' || code === 'EOPNOTSUPP') return { kind: 'refused', reason: 'not-regular' };
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'refused', reason: 'not-regular' };
    if (st.size > options.maxBytes) return { kind: 'refused', reason: 'too-large', size: st.size };
    // Read at most maxBytes + 1: a file that grows while read is caught too.
    const buf = Buffer.allocUnsafe(Math.min(st.size, options.maxBytes) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n === buf.length) {
        if (n > options.maxBytes) return { kind: 'refused', reason: 'too-large', size: n };
        break;
      }
    }
    return { kind: 'file', bytes: buf.subarray(0, n), mode: st.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/** A refusal in words: "is a symbolic link", "is not a regular file", … */
export function refusalWords(reason: ProjectFileRefusal, maxBytes: number): string {
  switch (reason) {
    case 'symlink':
      return 'is a symbolic link';
    case 'not-regular':
      return 'is not a regular file';
    case 'too-large':
      return `is larger than ${formatBytes(maxBytes)}`;
    case 'parent-symlink':
      return 'lies below a symbolic link or a non-directory';
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * A project file's text when it is a regular file of at most `maxBytes` (see
 * {@link readProjectFile}); undefined when it is missing, refused or unreadable.
 */
export function readProjectText(path: string, maxBytes: number): string | undefined {
  try {
    const read = readProjectFile(path, { maxBytes });
    return read.kind === 'file' ? read.bytes.toString('utf8') : undefined;
  } catch {
    return undefined;
  }
}
