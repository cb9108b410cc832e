import {
  chmodSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  copyFileSync,
  lchownSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { isErrno } from '../common/errno.js';

/**
 * Writing one entry that came back from the engine into the project, without ever following a
 * symlink: every directory on the way must be a real directory inside the project (created when
 * missing), and the entry itself replaces what is there by a rename, never by writing through it.
 */

/** Who new entries belong to (root runs only: the project's owner, as a local session would make them). */
export interface Owner {
  uid: number;
  gid: number;
}

/** The owner new entries get: the project directory's when mino runs as root, else none (they are the user's). */
export function ownerFor(root: string): Owner | undefined {
  if ((process.getuid?.() ?? 1) !== 0) return undefined;
  const st = lstatSync(root);
  return st.uid === 0 ? undefined : { uid: st.uid, gid: st.gid };
}

/** True when every directory between `root` and `path` is a real directory (missing ones are created). */
export function safeParents(root: string, path: string, owner?: Owner): boolean {
  const parts = path.split('/').slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory()) return false;
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) return false;
      mkdirSync(dir, { mode: 0o755 });
      if (owner) lchownSync(dir, owner.uid, owner.gid);
    }
  }
  return true;
}

/** What to write: a staged file's content, or a symlink's target. */
export type Incoming =
  | { type: 'file'; staged: string; mode: number; mtime: number }
  | { type: 'symlink'; target: string };

/** Puts `incoming` at `root/path` (atomically: a sibling temporary renamed over it). */
export function placeEntry(root: string, path: string, incoming: Incoming, owner?: Owner): void {
  const dest = join(root, path);
  const tmp = join(dirname(dest), `.mino-sync-${process.pid}-${Date.now()}.tmp`);
  if (incoming.type === 'symlink') {
    symlinkSync(incoming.target, tmp);
  } else {
    try {
      renameSync(incoming.staged, tmp);
    } catch (err) {
      if (!isErrno(err, 'EXDEV')) throw err;
      copyFileSync(incoming.staged, tmp);
    }
    chmodSync(tmp, incoming.mode);
    utimesSync(tmp, incoming.mtime, incoming.mtime);
  }
  if (owner) lchownSync(tmp, owner.uid, owner.gid);
  try {
    const st = lstatSync(dest);
    if (st.isDirectory()) rmdirSync(dest); // only an empty one: otherwise this throws and nothing is lost
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) {
      unlinkSync(tmp);
      throw err;
    }
  }
  renameSync(tmp, dest);
}

/** Removes `root/path` (a file, a symlink, or an empty directory); false when it is not there or not empty. */
export function removeEntry(root: string, path: string): boolean {
  const dest = join(root, path);
  try {
    const st = lstatSync(dest);
    if (st.isDirectory()) rmdirSync(dest);
    else unlinkSync(dest);
    return true;
  } catch {
    return false;
  }
}

/** A free name for the engine's version of a conflicting `path`: `path.mino-remote`, then `-2`, `-3`… */
export function conflictName(root: string, path: string): string {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? `${path}.mino-remote` : `${path}.mino-remote-${i}`;
    try {
      lstatSync(join(root, candidate));
    } catch {
      return candidate;
    }
  }
}
