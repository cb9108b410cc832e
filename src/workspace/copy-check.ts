import { lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { MinoError } from '../common/errors.js';

/**
 * The agent can change anything in its working copy's `.git` that is not protected (objects,
 * refs, index, logs). Before mino itself runs git there (as you, or as root), nothing in `.git`
 * may lead out of it: a symbolic link planted at `.git/objects/ab` or `.git/refs` would have
 * git write (or read) where the link points. git never makes such links itself, so any link or
 * special file there is refused.
 */

/** Throws a MinoError naming the first entry of `<copy>/.git` that is neither a folder nor a regular file. */
export function checkCopyGitDir(copy: string): void {
  const root = join(copy, '.git');
  const visit = (path: string): void => {
    const st = lstatSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
      return;
    }
    if (st.isFile()) return;
    throw new MinoError(
      `The working copy ${copy} has ${st.isSymbolicLink() ? 'a symbolic link' : 'a special file'} at .git/${relative(root, path)}; mino does not run git there (the agent may have planted it)`,
      {
        hint: `Look at it yourself (its files are in ${copy}); remove the entry and run the command again`,
      },
    );
  };
  visit(root);
}
