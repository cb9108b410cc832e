import { statSync } from 'node:fs';
import type { RunPlan } from '../launch/run-plan.js';
import type { ProtectFacts } from '../protect/protect-plan.js';
import { effectiveRules, GIT_EXCLUDE_TARGET, gitExcludeText, type EffectiveRules } from '../protect/protect-rules.js';
import { discoverProtected, rwVolumeDirs } from '../protect/protect-discovery.js';
import { gitExcludePath, privateSettingsPath, seedPrivateCopy, writeGitExclude } from '../protect/protect-private.js';
import {
  createStubs,
  projectPooled,
  releaseDeadThenJoin,
  releaseStubs,
  type ContainersSeen,
} from '../lifecycle/protect-stubs.js';
import type { RunRequest } from './run-request.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import { copyPrivateSettings } from '../workspace/copy-layout.js';

/**
 * The protected paths of one `mino run`, around the pure plan: what the host has (before the
 * plan), the files the plan needs on the host (before the container starts), and the stand-ins'
 * release (after the run).
 */

/** What {@link discoverForRun} found: the plan's input and the rules' warnings. */
export interface RunProtection {
  facts: ProtectFacts;
  rules: EffectiveRules;
}

/** Where the session's private settings copy of `projectDir` lives (a branch session's: beside its working copy). */
function privateSettingsOf(ctx: SessionContext, projectDir: string, branch: boolean): string {
  return branch ? copyPrivateSettings(projectDir) : privateSettingsPath(dataDirOf(ctx), projectDir);
}

/** The protection rules of a request: the defaults, the config's additions and (user file only) removals. */
function protectRules(req: RunRequest): EffectiveRules {
  const rules = effectiveRules(req.config?.protectPaths ?? [], req.config?.protectUnprotect ?? []);
  if (req.config?.projectUnprotectIgnored)
    rules.warnings.push(
      "the project's .mino.toml sets protect.unprotect, which only your own config.toml may: ignored",
    );
  return rules;
}

/**
 * Reads what the host has at the protected paths of the project and of the plan's read-write
 * volumes (`mounts`, from a first plan). A real run first removes the stand-ins a killed run left
 * and joins the live ones (so another session ending meanwhile keeps them).
 */
export async function discoverForRun(
  ctx: SessionContext,
  req: RunRequest,
  pid: number,
  mounts: RunPlan['mounts'],
): Promise<RunProtection> {
  if (!req.dryRun) {
    await releaseDeadThenJoin(ctx.runtime, ctx.stateDir, req.projectDir, pid);
  }
  const rules = protectRules(req);
  const facts = discoverProtected(req.projectDir, {
    worktreeRules: rules.worktree,
    privateSettings: privateSettingsOf(ctx, req.projectDir, req.workingCopy !== undefined),
    gitExclude: gitExcludePath(dataDirOf(ctx)),
    volumeDirs: rwVolumeDirs(mounts),
  });
  return { facts, rules };
}

/** Creates what the plan's protections mount from the host: the private copy, the git excludes, the stand-ins. */
export function materialiseProtection(ctx: SessionContext, plan: RunPlan, rules: EffectiveRules, pid: number): void {
  const st = statSync(plan.projectDir);
  const owner = { uid: st.uid, gid: st.gid };
  const privateEntry = plan.protection.entries.find((e) => e.state === 'private');
  if (privateEntry)
    seedPrivateCopy(privateSettingsOf(ctx, plan.projectDir, plan.branch !== undefined), privateEntry.hostPath, owner);
  if (plan.protection.mounts.some((m) => m.target === GIT_EXCLUDE_TARGET))
    writeGitExclude(gitExcludePath(dataDirOf(ctx)), gitExcludeText(rules.worktree));
  createStubs(ctx.stateDir, plan.projectDir, plan.protection.stubs, pid, owner);
}

/** After the run: this process no longer uses the stand-ins; they go when nothing else does. */
export function releaseForRun(ctx: SessionContext, plan: RunPlan, pid: number, seen?: ContainersSeen): Promise<void> {
  return releaseStubs(ctx.runtime, ctx.stateDir, plan.projectDir, pid, seen);
}

/**
 * Lists the engine's containers alongside the run (when the plan has stand-ins, the only case
 * whose release asks), for {@link releaseForRun}: the end of the run then no longer waits for
 * the engine. A failed listing is the release's warning, as before (the stand-ins stay).
 */
export function containersSeenDuringRun(ctx: SessionContext, plan: RunPlan): ContainersSeen | undefined {
  // A detached session's own container outlives this process: it must count, so the release
  // lists the containers after the start, not alongside it.
  if (!plan.attached || plan.protection.stubs.length === 0 || projectPooled(ctx.stateDir, plan.projectDir))
    return undefined;
  const list = ctx.runtime.listContainers({});
  list.catch(() => undefined);
  return { list, except: plan.containerName };
}
