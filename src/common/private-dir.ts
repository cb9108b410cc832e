import { lstatSync, mkdirSync } from 'node:fs';
import { MinoError } from './errors.js';

/**
 * Creates `dir` (0700, parents as needed) or checks an existing one: a real directory (not a
 * symlink), owned by this user, open to nobody else. `what` names its use in the error, e.g.
 * "session secrets". Throws a MinoError saying how to fix it otherwise.
 */
export function ensurePrivateDir(dir: string, what: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new MinoError(`Unsafe directory for ${what}: ${dir} must be a directory of yours with mode 0700`, {
      hint: `Remove it (rm -r '${dir}') and run again`,
    });
  }
}
