import { dirname, join } from 'node:path';
import type { SessionRecord } from '../session/session-record.js';
import { branchRef } from '../workspace/branch-name.js';
import { readCopyMeta } from '../workspace/copy-meta.js';
import { aheadCount } from '../workspace/copy-state.js';

/**
 * The BRANCH and AHEAD columns of `mino list`: a branch session's branch and how many commits its
 * working copy's branch has beyond the commit it started from (read from the copy with plumbing).
 */

/** One session's branch as `mino list` shows it. */
export interface BranchColumn {
  /** `mino/NAME`. */
  branch: string;
  /** Commits beyond the base; undefined when the working copy is gone. */
  ahead: number | undefined;
}

/** The branch columns of `sessions` (undefined for sessions without a branch). */
export async function branchColumns(sessions: readonly SessionRecord[]): Promise<(BranchColumn | undefined)[]> {
  return Promise.all(
    sessions.map(async (s) => {
      if (s.branch === undefined) return undefined;
      const meta = readCopyMeta(join(dirname(s.project_dir), 'copy.json'));
      const ahead =
        meta && meta.copy === s.project_dir ? await aheadCount(meta.copy, meta.base, branchRef(s.branch)) : undefined;
      return { branch: `mino/${s.branch}`, ahead };
    }),
  );
}
