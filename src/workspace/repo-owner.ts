import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * mino as root bringing work home into another user's repository: git (run as root) writes the
 * new objects, refs and logs as root, and the owner's own git could then no longer write beside
 * them. This gives what fetch may have made back to the repository's owner.
 */

/** Gives `path` and (for a folder) everything below it that is not `owner`'s to `owner`; links are not followed. */
function giveBack(path: string, owner: { uid: number; gid: number }, depth: number): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.uid !== owner.uid || st.gid !== owner.gid) lchownSync(path, owner.uid, owner.gid);
  if (!st.isDirectory() || depth === 0) return;
  for (const name of readdirSync(path)) giveBack(join(path, name), owner, depth - 1);
}

/** After a fetch as root: the objects, mino's refs and their logs in `commonDir` belong to `owner` again. */
export function restoreOwner(commonDir: string, owner: { uid: number; gid: number }): void {
  if (process.getuid?.() !== 0 || owner.uid === 0) return;
  giveBack(join(commonDir, 'objects'), owner, 2);
  for (const sub of [
    'refs/heads/mino',
    'refs/mino',
    'logs/refs/heads/mino',
    'logs/refs/mino',
    'logs/HEAD',
    'packed-refs',
  ])
    giveBack(join(commonDir, sub), owner, 8);
  // Parents fetch may have created (refs/mino, logs/refs).
  for (const sub of ['refs', 'logs', 'logs/refs', 'logs/refs/heads']) giveBack(join(commonDir, sub), owner, 0);
}
