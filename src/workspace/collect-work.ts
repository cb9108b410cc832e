import { basename, dirname, join } from 'node:path';
import { withFileLockAsync } from '../common/file-lock.js';
import { bringHome, divergedRef } from './bring-home.js';
import { copyPathsIn } from './copy-layout.js';
import { readCopyMeta } from './copy-meta.js';
import { aheadCount } from './copy-state.js';
import { wipRef } from './branch-name.js';

/**
 * The end of a branch session: its work comes home (bring-home.ts), one at a time per host
 * repository, and the user hears where it is. Called when an attached run ends, by `mino stop`,
 * `mino fork` and `mino branch prune`.
 */

/** Brings the work of the working copy `copy` home; returns what to tell the user (nothing for a folder that is no copy). */
export async function collectWork(copy: string, excludesFile?: string): Promise<string[]> {
  const paths = copyPathsIn(dirname(copy), basename(copy));
  const meta = readCopyMeta(paths.meta);
  if (!meta || meta.copy !== copy) return [];
  const objectsDir = join(meta.commonDir, 'objects');
  const home = await withFileLockAsync(
    join(dirname(paths.base), '.home.lock'),
    () => bringHome(meta, paths, objectsDir, excludesFile),
    { what: `the host repository ${meta.repo}` },
  );
  const lines: string[] = [];
  const branch = `mino/${meta.name}`;
  if (home.tip) {
    const ahead = await aheadCount(meta.copy, meta.base, home.tip);
    lines.push(
      home.diverged
        ? `Warning: ${branch} was rewritten in the session; its tip ${home.tip.slice(0, 7)} is at ${divergedRef(meta.name)} in ${meta.repo} (your ${branch} is unchanged)`
        : `Branch ${branch} is in ${meta.repo} at ${home.tip.slice(0, 7)} (${ahead} commit${ahead === 1 ? '' : 's'} since ${meta.base.slice(0, 7)})`,
    );
  }
  if (home.wip)
    lines.push(
      `Uncommitted work of the session is saved as ${wipRef(meta.name)} (git show --stat ${wipRef(meta.name)}); the working copy keeps it too`,
    );
  return lines;
}
