import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunPlan } from '../launch/run-plan.js';
import { UsageError } from '../common/errors.js';
import { DEFAULT_POOL_SETTINGS } from '../pool/pool-settings.js';
import { warmPool, type WarmSteps } from '../pool/warm-pool.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import { removeProbe, type PreparedBranch } from '../branch/prepare-branch.js';
import { log } from '../common/logger.js';
import { ensureDeviceDir } from '../host/device-dir.js';
import { gitExcludePath, writeGitExclude } from '../protect/protect-private.js';
import { GIT_EXCLUDE_TARGET, gitExcludeText } from '../protect/protect-rules.js';
import { layoutEntries, mountedPaths, warmCopiesDir, type WarmCopyLayout } from '../workspace/warm-copy.js';
import { explainStartFailure } from './explain-start-failure.js';
import { planRun, printDryRun, withPlanOnHost, type PlannedRun } from './plan-run.js';
import { prepareCaches } from './prepare-caches.js';
import { prepareVolumes } from './prepare-volumes.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import { prepareLoginsVolume } from './session-credentials.js';
import { remoteRunOf, shipForSession, type RemoteRun } from './remote-project.js';

/**
 * Use case `mino pool warm -n N [run flags…]`: the plan `mino run` would build for the same
 * request (planRun, shared with run-session.ts), kept warm by the pool (pool/warm-pool.ts)
 * instead of run. `--dry-run` prints the plan. Returns mino's exit code.
 *
 * With `--branch [NAME]` the plan is made on a stand-in copy of the branch's start (removed
 * afterwards), and the warm containers mount empty folders of their own where a claiming run
 * puts its working copy (workspace/warm-copy.ts): they serve branch sessions of any branch of
 * the repository, or, when the plan has a home volume (a branch's own), of branch NAME only.
 */
export async function warmRun(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  io: RunIo,
  count: number,
): Promise<number> {
  if (req.forkFrom !== undefined)
    throw new UsageError('mino fork cannot be kept warm', 'Warm branch sessions with mino pool warm --branch');
  const local = await planRun(ctx, req, facts, io, { warm: req.branch !== undefined });
  // On a remote engine: the plan of a remote run, its project shipped there before warming.
  const remote = remoteRunOf(ctx, local, req);
  const planned = remote?.planned ?? local;
  try {
    if (req.dryRun) {
      printDryRun(planned, io);
      return 0;
    }
    const { plan } = planned;
    if (!planned.branch)
      return await withPlanOnHost(ctx, planned, facts.pid, io, () =>
        warmPool(ctx, plan, count, req.pool ?? DEFAULT_POOL_SETTINGS, io, warmSteps(ctx, plan, io, remote)),
      );
    if (plan.homeVolume !== undefined && req.branch === '')
      throw new UsageError(
        "This run cannot be kept warm for any branch: a branch session's home volume is its branch's own",
        'Warm it for one branch (mino pool warm --branch NAME), or without the home volume (--no-home) for every branch',
      );
    return await warmBranchPool(ctx, planned, planned.branch, count, req, io);
  } finally {
    removeProbe(planned.branch);
  }
}

/** Warms a branch plan: the host side a warm container needs (no stand-in in any copy: the warm folders hold them). */
async function warmBranchPool(
  ctx: SessionContext,
  planned: PlannedRun,
  branch: PreparedBranch,
  count: number,
  req: RunRequest,
  io: RunIo,
): Promise<number> {
  const { plan } = planned;
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  if (plan.spec.devDir !== undefined && (await ensureDeviceDir(plan.spec.devDir)))
    log.info(`made the session device directory ${plan.spec.devDir}`);
  if (plan.protection.mounts.some((m) => m.target === GIT_EXCLUDE_TARGET))
    writeGitExclude(gitExcludePath(dataDirOf(ctx)), gitExcludeText(planned.protection.rules.worktree));
  const steps: WarmSteps = { ...warmSteps(ctx, plan, io), branch: branchLayout(planned, branch) };
  return warmPool(ctx, plan, count, req.pool ?? DEFAULT_POOL_SETTINGS, io, steps);
}

/** What the warm containers of a branch plan mount of a working copy: its kinds read on the stand-in copy. */
function branchLayout(planned: PlannedRun, branch: PreparedBranch): WarmCopyLayout {
  const { plan } = planned;
  const probe = branch.probe ?? branch.paths;
  const stubs = new Map(plan.protection.stubs.map((s) => [s.hostPath, s.kind]));
  const base = dirname(plan.projectDir);
  const kindOf = (rel: string): 'file' | 'dir' => {
    try {
      return lstatSync(join(probe.base, rel)).isDirectory() ? 'dir' : 'file';
    } catch {
      // A stand-in to make, or the private settings copy (the one file a plan mounts that a copy lacks).
      return stubs.get(join(base, rel)) ?? 'file';
    }
  };
  const st = lstatSync(branch.repo.top);
  return {
    // The stand-in copy lives in the warm folders' folder.
    dir: branch.probe ? dirname(branch.probe.base) : warmCopiesDir(dirname(branch.paths.base)),
    entries: layoutEntries(base, mountedPaths(plan.spec.mounts ?? [], plan.projectDir, plan.workdir), kindOf),
    owner: { uid: st.uid, gid: st.gid },
  };
}

/**
 * The run pipeline's steps that warming `plan` needs (see WarmSteps). On a remote engine
 * (`remote`) the project is shipped into its volume there first, as before a cold run there.
 */
export function warmSteps(ctx: SessionContext, plan: RunPlan, io: Pick<RunIo, 'say'>, remote?: RemoteRun): WarmSteps {
  return {
    explainMissingImage: () => explainStartFailure(ctx.runtime, plan),
    prepareMounts: async () => {
      await prepareVolumes(ctx, plan, io.say);
      await prepareLoginsVolume(ctx, plan);
      await prepareCaches(ctx, plan.caches, io.say);
      if (remote) await shipForSession(remote, io, false);
    },
    ...(remote ? { projectVolume: remote.copy.target.volume } : {}),
  };
}
