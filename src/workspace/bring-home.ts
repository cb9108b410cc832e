import { statSync } from 'node:fs';
import { MinoError } from '../common/errors.js';
import { restoreOwner } from './repo-owner.js';
import { git, gitTry } from '../host/git.js';
import { branchRef, wipRef } from './branch-name.js';
import { copyCommit, uncommitted } from './copy-state.js';
import { relinkOrigin } from './make-copy.js';
import { fetchConfigFile, type CopyPaths } from './copy-layout.js';
import type { CopyMeta } from './copy-meta.js';

/**
 * A session's work comes home: mino runs `git fetch` IN THE HOST REPOSITORY from the working copy,
 * of exactly the branch `mino/NAME` (never tags, never another ref the agent made), and keeps
 * uncommitted work as a commit on the side ref `refs/mino/wip/NAME` (parent: the copy's HEAD).
 * The branch only moves forward: a rewritten branch (or one checked out on the host) lands on
 * `refs/mino/diverged/NAME` instead, and nothing on the host is overwritten. The copy itself is
 * left as it was, so nothing is lost either way.
 */

/** What came home. */
export interface HomeResult {
  /** The branch tip now in the host repository (undefined: the copy has no such branch). */
  tip?: string;
  /** The commit holding the uncommitted work, when there was any. */
  wip?: string;
  /** The branch could not move forward on the host: it is at refs/mino/diverged/NAME. */
  diverged?: boolean;
}

/** The side ref of a branch that could not come home as a fast-forward. */
export function divergedRef(name: string): string {
  return `refs/mino/diverged/${name}`;
}

/** Brings the work of the copy `meta` home (see the module comment); `excludesFile` keeps stand-ins out. */
export async function bringHome(
  meta: CopyMeta,
  paths: CopyPaths,
  objectsDir: string,
  excludesFile?: string,
): Promise<HomeResult> {
  relinkOrigin(paths, objectsDir);
  const ref = branchRef(meta.name);
  const tip = await copyCommit(meta.copy, ref);
  const work = await uncommitted(meta.copy, excludesFile);
  let wip: string | undefined;
  if (work.dirty) {
    wip = await git(meta.copy, [
      'commit-tree',
      work.tree,
      ...(work.head ? ['-p', work.head] : []),
      '-m',
      `mino: uncommitted work of session ${meta.session} on ${ref.slice('refs/heads/'.length)}`,
    ]);
    await git(meta.copy, ['update-ref', 'refs/mino/wip', wip]);
  }
  const fetch = (branchSpec: string): Promise<{ exitCode: number; stderr: string }> =>
    gitTry(
      meta.repo,
      [
        'fetch',
        '--quiet',
        '--no-tags',
        '--no-write-fetch-head',
        '--no-recurse-submodules',
        '--no-auto-gc',
        meta.copy,
        ...(tip ? [branchSpec] : []),
        ...(wip ? [`+refs/mino/wip:${wipRef(meta.name)}`] : []),
      ],
      { env: { GIT_CONFIG_GLOBAL: fetchConfigFile(paths.base) } },
    );
  if (!tip && !wip) return {};
  // Nothing new: the host has this tip already (a continued session that changed nothing).
  if (!wip && tip && (await gitTry(meta.repo, ['rev-parse', '-q', '--verify', ref])).stdout.trim() === tip)
    return { tip };
  const owner = statSync(meta.repo);
  const r = await fetch(`${ref}:${ref}`);
  restoreOwner(meta.commonDir, owner);
  if (r.exitCode === 0) return { ...(tip ? { tip } : {}), ...(wip ? { wip } : {}) };
  const again = await fetch(`+${ref}:${divergedRef(meta.name)}`);
  restoreOwner(meta.commonDir, owner);
  if (again.exitCode !== 0) {
    throw new MinoError(
      `The work of branch ${ref.slice('refs/heads/'.length)} could not come home to ${meta.repo}: ${again.stderr.trim() || r.stderr.trim()}`,
      {
        hint: `Nothing is lost: it is in the working copy ${meta.copy}; mino diff and the next session's end try again`,
      },
    );
  }
  return { ...(tip ? { tip } : {}), ...(wip ? { wip } : {}), diverged: true };
}
