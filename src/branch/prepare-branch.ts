import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../common/errors.js';
import { withFileLockAsync } from '../common/file-lock.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import type { PlanBranch } from '../launch/run-plan.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import { isActive } from '../session/session-record.js';
import { gitTry } from '../host/git.js';
import { branchRef, validateBranchName } from '../workspace/branch-name.js';
import { copyPaths, type CopyPaths } from '../workspace/copy-layout.js';
import { readHostRepo, hostRefCommit, refuseCheckedOut, type HostRepo } from '../workspace/host-repo.js';
import { ensureCopy } from '../workspace/make-copy.js';
import { forkCopy } from '../workspace/fork-copy.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { sessionCopy } from './session-copy.js';

/**
 * The branch step of `mino run --branch NAME`: checks the host repository (a repository, at its
 * top, on a branch, with a commit; `mino/NAME` not checked out there nor used by a running
 * session), then makes or continues the working copy the session mounts instead of the project.
 * Nothing is created before every check passed; the host repository is only read.
 */

/** A branch session's working copy, ready for the plan. */
export interface PreparedBranch {
  /** The plan's part (the host project, its objects, the name). */
  plan: PlanBranch;
  /** Where the copy lives. */
  paths: CopyPaths;
  repo: HostRepo;
}

/** The active sessions on the copy at `copy` (after reconciling records whose container is gone). */
async function sessionsOn(ctx: SessionContext, copy: string): Promise<string[]> {
  const on = (): string[] =>
    ctx.store
      .list()
      .sessions.filter((s) => isActive(s) && s.project_dir === copy)
      .map((s) => s.name);
  if (on().length === 0) return [];
  await reconcileSessions(ctx);
  return on();
}

/** True when the host's working tree has changes to tracked files (they stay there, untouched). */
async function hostDirty(repo: HostRepo): Promise<boolean> {
  // `git diff` compares contents where the index's stat data is stale (diff-index would not).
  const r = await gitTry(repo.top, ['diff', '--quiet', 'HEAD', '--']);
  return r.exitCode === 1;
}

/** A fork makes a new branch: one that exists (a working copy or the host's mino/NAME) is refused. */
function refuseExisting(paths: CopyPaths, name: string, hostTip: string | undefined): void {
  if (existsSync(paths.meta) || hostTip !== undefined) {
    throw new UsageError(
      `Branch mino/${name} exists already; a fork starts a new one`,
      `Name the fork: mino fork SESSION NEW (or continue that branch with mino run --branch ${name})`,
    );
  }
}

/**
 * Prepares the working copy of branch `requested` (empty: named after the session) for session
 * `session` of `projectDir`. With `dryRun` nothing is made: the plan then shows the project itself.
 */
export async function prepareBranch(
  ctx: SessionContext,
  projectDir: string,
  requested: string,
  session: string,
  options: { dryRun: boolean; say: (line: string) => void; forkFrom?: string },
): Promise<PreparedBranch | undefined> {
  const name = validateBranchName(requested === '' ? session : requested);
  const source = options.forkFrom === undefined ? undefined : sessionCopy(ctx, options.forkFrom);
  const repo = await readHostRepo(source ? source.meta.repo : projectDir);
  const paths = copyPaths(dataDirOf(ctx), repo.commonDir, repo.top, name);
  // The remaining checks and reads side by side (each a git call or a file read).
  const [, busy, hostTip] = await Promise.all([
    refuseCheckedOut(repo, name),
    sessionsOn(ctx, paths.copy),
    hostRefCommit(repo, branchRef(name)),
  ]);
  if (busy.length > 0) {
    throw new UsageError(
      `Branch mino/${name} is in use by the running session ${busy.join(', ')}`,
      `Pick another --branch name, or stop it first (mino stop ${busy[0]})`,
    );
  }
  const plan: PlanBranch = { name, hostProjectDir: repo.top, objectsDir: repo.objectsDir };
  if (source) {
    refuseExisting(paths, name, hostTip);
    if (options.dryRun) return undefined;
    mkdirSync(dirname(paths.base), { recursive: true, mode: 0o755 });
    await withFileLockAsync(
      `${paths.base}.lock`,
      () => forkCopy(source, paths, name, session, gitExcludePath(dataDirOf(ctx))),
      { what: `the working copy of mino/${name}` },
    );
    options.say(
      `Branch mino/${name}: a fork of session ${source.record.name} (mino/${source.meta.name}), its uncommitted work included`,
    );
    return { plan, paths, repo };
  }
  if (options.dryRun) {
    options.say(`Note: a real run mounts the working copy ${paths.copy} of branch mino/${name}, not the project`);
    return undefined;
  }
  const base = hostTip
    ? (await gitTry(repo.top, ['merge-base', repo.head, hostTip])).stdout.trim() || hostTip
    : repo.head;
  const st = statSync(repo.top);
  mkdirSync(dirname(paths.base), { recursive: true, mode: 0o755 });
  const dirty = existsSync(paths.meta) ? Promise.resolve(false) : hostDirty(repo);
  const made = await withFileLockAsync(
    `${paths.base}.lock`,
    () => ensureCopy(repo, paths, name, session, { tip: hostTip ?? repo.head, base }, { uid: st.uid, gid: st.gid }),
    { what: `the working copy of mino/${name}` },
  );
  if (made.created) {
    const from = hostTip
      ? `mino/${name} (${hostTip.slice(0, 7)})`
      : `${repo.headRef.replace('refs/heads/', '')} (${repo.head.slice(0, 7)})`;
    options.say(`Branch mino/${name}: a new working copy from ${from}`);
    if (await dirty)
      options.say(
        `Note: your uncommitted changes in ${repo.top} are not in the branch; they stay where they are, untouched`,
      );
  } else options.say(`Branch mino/${name}: continuing its working copy`);
  return { plan, paths, repo };
}
