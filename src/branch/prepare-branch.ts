import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { withFileLockAsync } from '../common/file-lock.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import type { PlanBranch } from '../launch/run-plan.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import { isActive } from '../session/session-record.js';
import { gitTry } from '../host/git.js';
import { branchRef, validateBranchName } from '../workspace/branch-name.js';
import { copyPaths, copyPathsIn, type CopyPaths } from '../workspace/copy-layout.js';
import { warmCopiesDir } from '../workspace/warm-copy.js';
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
  /**
   * A stand-in copy made for a plan without a real one (a dry run of a new branch, `mino pool warm
   * --branch`): fresh from the branch's start, in the repository's `.warm` folder; the plan is made
   * on it, then moved to `paths` (plan-run.ts). Removed with {@link removeProbe} afterwards.
   */
  probe?: CopyPaths;
}

/** Removes a prepared branch's stand-in copy (and the folders it alone needed). */
export function removeProbe(branch: PreparedBranch | undefined): void {
  const probe = branch?.probe;
  if (!probe) return;
  rmSync(probe.base, { recursive: true, force: true });
  rmSync(`${probe.base}.lock`, { force: true });
  // The `.warm` folder, the repository's folder and `branches`, when the stand-in made them.
  const warm = dirname(probe.base);
  for (const dir of [warm, dirname(warm), dirname(dirname(warm))]) {
    try {
      rmdirSync(dir);
    } catch {
      break;
    }
  }
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
  options: { dryRun: boolean; say: (line: string) => void; forkFrom?: string; warm?: boolean },
): Promise<PreparedBranch | undefined> {
  if (options.warm) return warmProbe(ctx, projectDir, requested);
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
    if (existsSync(paths.meta)) return { plan, paths, repo };
    options.say(`Note: a real run makes the working copy ${paths.copy} of branch mino/${name} and mounts it`);
    return { plan, paths, repo, probe: await makeProbe(repo, paths, name, hostTip ?? repo.head) };
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

/**
 * The branch part of `mino pool warm --branch [NAME]`: a stand-in copy of the branch's start
 * (the host's `mino/NAME`, else HEAD) to plan on; `paths` are NAME's (none: the stand-in's own).
 */
async function warmProbe(ctx: SessionContext, projectDir: string, requested: string): Promise<PreparedBranch> {
  const repo = await readHostRepo(projectDir);
  const name = requested === '' ? 'warm' : validateBranchName(requested);
  const real = copyPaths(dataDirOf(ctx), repo.commonDir, repo.top, name);
  const tip = requested === '' ? undefined : await hostRefCommit(repo, branchRef(name));
  const probe = await makeProbe(repo, real, name, tip ?? repo.head);
  const plan: PlanBranch = { name, hostProjectDir: repo.top, objectsDir: repo.objectsDir };
  return { plan, paths: requested === '' ? probe : real, repo, probe };
}

/** Makes a stand-in copy of `tip` beside the working copies of `real` (see PreparedBranch.probe). */
async function makeProbe(repo: HostRepo, real: CopyPaths, name: string, tip: string): Promise<CopyPaths> {
  const dir = warmCopiesDir(dirname(real.base));
  mkdirSync(dirname(real.base), { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const probe = copyPathsIn(join(dir, `probe-${process.pid}-${randomBytes(4).toString('hex')}`), basename(real.copy));
  const st = statSync(repo.top);
  try {
    await ensureCopy(repo, probe, name, 'probe', { tip, base: tip }, { uid: st.uid, gid: st.gid });
  } catch (err) {
    removeProbe({ plan: { name, hostProjectDir: repo.top, objectsDir: repo.objectsDir }, paths: probe, repo, probe });
    throw err;
  }
  return probe;
}
