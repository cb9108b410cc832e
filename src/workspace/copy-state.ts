import { copyFileSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, gitTry } from '../host/git.js';

/**
 * What a working copy holds beyond its base: its branch tip, how many commits it is ahead, and
 * its uncommitted work as a tree (tracked changes and new files, .gitignore respected), read with
 * a temporary index so the agent's own index is never touched.
 */

/** The commit `ref` names in the copy, or undefined. */
export async function copyCommit(copy: string, ref: string): Promise<string | undefined> {
  const r = await gitTry(copy, ['rev-parse', '-q', '--verify', `${ref}^{commit}`]);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Commits of `ref` not in `base` (0 when either is missing). */
export async function aheadCount(copy: string, base: string, ref: string): Promise<number> {
  const r = await gitTry(copy, ['rev-list', '--count', `${base}..${ref}`]);
  return r.exitCode === 0 ? Number(r.stdout.trim()) || 0 : 0;
}

/**
 * The tree of the copy's working files as `git add -A` would stage them (the agent's index is left
 * alone; `excludesFile` adds ignores; `objectEnv` can send the new objects elsewhere, see
 * {@link scratchObjects}).
 */
export async function worktreeTree(
  copy: string,
  excludesFile?: string,
  objectEnv: Readonly<Record<string, string>> = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mino-index-'));
  const index = join(dir, 'index');
  try {
    try {
      // A copy of the agent's index (a regular file only): its stat data spares hashing every unchanged file.
      if (lstatSync(join(copy, '.git', 'index')).isFile()) copyFileSync(join(copy, '.git', 'index'), index);
    } catch {
      // no index yet: git reads every file
    }
    const env = { ...objectEnv, GIT_INDEX_FILE: index };
    // The stand-ins of protected paths a running session has are not the agent's work.
    const exclude = excludesFile === undefined ? [] : ['-c', `core.excludesFile=${excludesFile}`];
    await git(copy, [...exclude, 'add', '-A', '--', '.'], { env });
    return await git(copy, ['write-tree'], { env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The uncommitted work of the copy: the worktree's tree and HEAD, and whether they differ. */
export async function uncommitted(
  copy: string,
  excludesFile?: string,
): Promise<{ tree: string; head: string | undefined; dirty: boolean }> {
  const [tree, heads] = await Promise.all([
    worktreeTree(copy, excludesFile),
    gitTry(copy, ['rev-parse', '-q', 'HEAD^{commit}', 'HEAD^{tree}']),
  ]);
  const [head, headTree] = heads.exitCode === 0 ? heads.stdout.trim().split('\n') : [];
  return { tree, head, dirty: tree !== headTree };
}

/**
 * Runs `fn` with the environment that makes git write new objects into a temporary folder of
 * mino's and read the copy's (and through them the host's) as alternates: a running session's
 * copy is then only read.
 */
export async function scratchObjects<T>(copy: string, fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mino-objects-'));
  try {
    return await fn({ GIT_OBJECT_DIRECTORY: dir, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(copy, '.git', 'objects') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
