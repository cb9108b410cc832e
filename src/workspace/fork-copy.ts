import { mkdirSync, rmSync } from 'node:fs';
import { git } from '../host/git.js';
import { branchRef } from './branch-name.js';
import { copyCommit, uncommitted } from './copy-state.js';
import { checkoutArgs, relinkOrigin } from './make-copy.js';
import { writeCopyMeta, type CopyMeta } from './copy-meta.js';
import { fetchConfigFile, type CopyPaths } from './copy-layout.js';

/**
 * `mino fork`'s working copy: a new copy on branch `mino/NEW` at the source copy's branch tip,
 * with the source's uncommitted work (tracked changes and new files) as uncommitted work of its
 * own. The source is only read (its uncommitted work is written as objects and one side ref,
 * `refs/mino/fork`, in its own repository; its files and index stay as they are), so a running
 * session can be forked.
 */
export async function forkCopy(
  source: { meta: CopyMeta; paths: CopyPaths; objectsDir: string },
  paths: CopyPaths,
  name: string,
  session: string,
  excludesFile?: string,
): Promise<CopyMeta> {
  const from = source.meta.copy;
  relinkOrigin(source.paths, source.objectsDir);
  const srcRef = branchRef(source.meta.name);
  const srcSpec = (await copyCommit(from, srcRef)) ? srcRef : 'HEAD';
  const tip = await copyCommit(from, srcSpec);
  const work = await uncommitted(from, excludesFile);
  if (work.dirty) {
    const wip = await git(from, [
      'commit-tree',
      work.tree,
      ...(work.head ? ['-p', work.head] : []),
      '-m',
      'mino: fork',
    ]);
    await git(from, ['update-ref', 'refs/mino/fork', wip]);
  }
  rmSync(paths.base, { recursive: true, force: true });
  mkdirSync(paths.copy, { recursive: true, mode: 0o755 });
  const ref = branchRef(name);
  await git(paths.copy, ['init', '-q', '--template=', `--initial-branch=${ref.slice('refs/heads/'.length)}`]);
  relinkOrigin(paths, source.objectsDir);
  const specs = [...(tip ? [`+${srcSpec}:${ref}`] : []), ...(work.dirty ? ['+refs/mino/fork:refs/mino/fork'] : [])];
  if (specs.length > 0)
    await git(
      paths.copy,
      ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--update-head-ok', from, ...specs],
      { env: { GIT_CONFIG_GLOBAL: fetchConfigFile(paths.base) } },
    );
  if (tip && !work.dirty) await git(paths.copy, checkoutArgs('HEAD'));
  if (work.dirty) {
    // The source's files with its uncommitted work (one checkout: the work's tree is the whole
    // tree), then the index at HEAD: uncommitted here too. `-m` keeps the stat data of every
    // entry HEAD has unchanged, so the next `git add -A` (the work coming home) hashes only the
    // changed files, not all of them.
    await git(paths.copy, checkoutArgs('refs/mino/fork'));
    await git(paths.copy, ['read-tree', '-m', 'HEAD']);
    await git(paths.copy, ['update-ref', '-d', 'refs/mino/fork']);
  }
  const meta: CopyMeta = {
    ...source.meta,
    name,
    copy: paths.copy,
    session,
    createdAt: new Date().toISOString(),
  };
  writeCopyMeta(paths.meta, meta);
  return meta;
}
