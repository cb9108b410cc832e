import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { git, gitTry } from '../host/git.js';
import { branchRef } from './branch-name.js';

/**
 * The host repository a branch session starts from, read once and only read: its top folder, the
 * object store its working copies borrow (read-only), and the commit HEAD names.
 */

/** What a branch session needs of the host repository. */
export interface HostRepo {
  /** The repository's top folder (canonical): the project directory. */
  top: string;
  /** Its git directory shared by all its worktrees (absolute). */
  commonDir: string;
  /** `<commonDir>/objects`: mounted read-only into branch sessions. */
  objectsDir: string;
  /** The commit HEAD points at. */
  head: string;
  /** The branch HEAD is on (`refs/heads/...`). */
  headRef: string;
}

/** Reads the host repository of `projectDir` (one git call); bad input (not a repository, its top, detached, no commit) is a UsageError. */
export async function readHostRepo(projectDir: string): Promise<HostRepo> {
  const r = await gitTry(projectDir, [
    'rev-parse',
    '--path-format=absolute',
    '--show-toplevel',
    '--git-common-dir',
    'HEAD',
    '--symbolic-full-name',
    'HEAD',
  ]);
  const [top = '', commonDir = '', head = '', headRef = ''] = r.stdout.trim().split('\n');
  if (top === '' || commonDir === '') {
    throw new UsageError(
      `--branch needs a git repository: ${printable(projectDir)} is not one`,
      'Run it in a git project (git init; git commit), or leave --branch out',
    );
  }
  if (top !== projectDir) {
    throw new UsageError(
      `--branch needs the repository's top folder: ${printable(projectDir)} is inside ${printable(top)}`,
      `Run it with -p ${printable(top)}`,
    );
  }
  if (r.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(head)) {
    throw new UsageError(
      `--branch starts from the current commit, but ${printable(top)} has no commit yet`,
      'Make a first commit (git commit), then run again',
    );
  }
  if (!headRef.startsWith('refs/heads/')) {
    throw new UsageError(
      `--branch starts from the current branch, but ${printable(top)} has a detached HEAD`,
      'Check out a branch first (git switch NAME), then run again',
    );
  }
  return { top, commonDir, objectsDir: join(commonDir, 'objects'), head, headRef };
}

/** The commit of `ref` in the host repository, or undefined when it does not exist. */
export async function hostRefCommit(repo: Pick<HostRepo, 'top'>, ref: string): Promise<string | undefined> {
  const r = await gitTry(repo.top, ['rev-parse', '-q', '--verify', `${ref}^{commit}`]);
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Throws a UsageError when `mino/NAME` is checked out in one of the host's worktrees (its work could not come home). */
export async function refuseCheckedOut(repo: Pick<HostRepo, 'top'>, name: string): Promise<void> {
  const list = await git(repo.top, ['worktree', 'list', '--porcelain']);
  const ref = branchRef(name);
  for (const block of list.split('\n\n')) {
    const lines = block.split('\n');
    if (!lines.includes(`branch ${ref}`)) continue;
    const where = (lines.find((l) => l.startsWith('worktree ')) ?? '').slice('worktree '.length);
    throw new UsageError(
      `Branch ${ref.slice('refs/heads/'.length)} is checked out in ${printable(where)}; a session's work could not come home to it`,
      `Switch that worktree to another branch (git -C ${printable(where)} switch -), or pick another --branch name`,
    );
  }
}
