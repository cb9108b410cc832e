import { LABEL_ENGINE } from '../session/session-labels.js';
import { join } from 'node:path';
import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { validateImageRef } from '../runtime/validate.js';
import { DEFAULT_IMAGE } from '../config/defaults.js';
import { formatPlanLine } from '../launch/plan-format.js';
import { buildRunPlan, checkRunPlanInput, type RunPlan } from '../launch/run-plan.js';
import { defaultSessionName, validateSessionName } from '../session/session-name.js';
import { gatherCredentials, type GatheredCredentials } from './gather-credentials.js';
import { proxyMarks } from '../credentials/proxy-credential.js';
import { readUpstreamCa } from './session-tls.js';
import { planCredentialInput } from './session-credentials.js';
import { resolveCacheMounts } from './prepare-caches.js';
import { plainImageIdentity } from './plain-image.js';
import { resolveRunImage, type RunImage } from './run-image.js';
import { imageUserOf, runPlanInput } from './run-plan-input.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import type { SessionContext } from '../context/session-context.js';
import {
  chooseNetwork,
  egressDryRunLines,
  egressPlanFor,
  networkInputs,
  startEgressInputs,
  type PendingEgress,
} from './session-network.js';
import type { EgressPlan } from '../network/egress-plan.js';
import { choiceTerminates } from '../network/network-choice.js';
import { protectionDryRunLines } from '../protect/protect-format.js';
import {
  containersSeenDuringRun,
  discoverForRun,
  materialiseProtection,
  releaseForRun,
  type RunProtection,
} from './protect-session.js';
import type { ContainersSeen } from '../lifecycle/protect-stubs.js';
import { checkEndedSessionsRepos, checkSessionRepos, recordRepos } from '../lifecycle/session-repo-guard.js';
import type { RepoBaseline } from '../protect/repo-guard.js';
import { log } from '../common/logger.js';
import { ensureDeviceDir } from '../host/device-dir.js';
import { prepareBranch, removeProbe, type PreparedBranch } from '../branch/prepare-branch.js';
import { rebasePaths } from '../common/rebase-paths.js';
import { homeVolumeName } from '../volume/home-volume.js';
import { sessionNameForBranch, validateBranchName } from '../workspace/branch-name.js';

/**
 * The plan of a `mino run` request, shared by `mino run` (run-session.ts) and `mino pool warm`
 * (warm-run.ts), so the two can never disagree: every input checked first (before an image build
 * that may take minutes), then the image, caches and credentials resolved, then the plan built,
 * once.
 */

/** A planned run: the plan and what was resolved on the way to it (needed to prepare and execute it). */
export interface PlannedRun {
  plan: RunPlan;
  /** The image of the run (composed from layers, or as given). */
  image: RunImage;
  /** What the credentials step gathered (providers, secrets). */
  credentials: GatheredCredentials;
  /** Dependency caches are on for this run. */
  cachesOn: boolean;
  /** The protected paths found on the host, and the rules' warnings. */
  protection: RunProtection;
  /** The working copy of a branch session. */
  branch?: PreparedBranch;
}

/** Plans the run of `req` (see the module comment); warnings and notes go to `io`. */
export async function planRun(
  ctx: SessionContext,
  asked: RunRequest,
  facts: HostFacts,
  io: RunIo,
  options: { warm?: boolean } = {},
): Promise<PlannedRun> {
  let req = asked;
  // A branch session's copy borrows the host repository's objects through a mount of this machine:
  // on another engine it could not, so it is refused before anything is made.
  if (ctx.engine !== undefined && req.branch !== undefined) {
    throw new UsageError(
      `${req.forkFrom === undefined ? '--branch' : 'mino fork'} cannot run on engine ${ctx.engine}: a branch session's working copy borrows your repository's objects on this machine`,
      'Run branch sessions on this machine (--engine local), or run on that engine without --branch',
    );
  }
  // 1. Every input is checked before an image build that may take minutes (with a stand-in image:
  //    the checks are pure and cheap); the user's mounts come back for the protected paths.
  if (req.noCache && (req.cacheFresh || req.cacheRo)) {
    throw new UsageError(
      `--no-cache cannot be combined with ${req.cacheFresh ? '--cache-fresh' : '--cache-ro'}`,
      'Use one of them',
    );
  }
  if (req.image !== undefined) checkCliImage(req.image);
  const sessionName = sessionNameOf(req);
  const remote = ctx.engine !== undefined;
  const choice = chooseNetwork(req, facts, io, remote);
  const upstreamCa = readUpstreamCa(req.config?.upstreamCa);
  const pendingEgress = startEgressInputs(choice, facts, join(ctx.stateDir, 'registry-answers.json'), remote);
  const standInNetwork = pendingEgress
    ? { egress: egressPlanStandIn(ctx, facts, pendingEgress, sessionName) }
    : { network: choice.mode };
  const userMounts = checkRunPlanInput(
    runPlanInput(req, facts, ctx.stateKey, {
      sessionName,
      image: req.image ?? DEFAULT_IMAGE,
      layerEnv: {},
      caches: [],
      ...standInNetwork,
    }),
  );

  // A branch session: its working copy (made now, every input checked) takes the project's place.
  const branch =
    req.branch === undefined
      ? undefined
      : await prepareBranch(ctx, req.projectDir, req.branch, sessionName, {
          dryRun: req.dryRun,
          say: io.say,
          ...(req.forkFrom === undefined ? {} : { forkFrom: req.forkFrom }),
          ...(options.warm ? { warm: true } : {}),
        });
  if (branch) req = { ...req, projectDir: (branch.probe ?? branch.paths).copy, workingCopy: branch.plan };
  try {
    const planned = await planAfterBranch(ctx, req, facts, io, {
      sessionName,
      choice,
      upstreamCa,
      pendingEgress,
      userMounts,
    });
    return branch ? { ...planned, plan: atRealCopy(planned.plan, branch), branch } : planned;
  } catch (err) {
    removeProbe(branch);
    throw err;
  }
}

/** A plan made on a branch's stand-in copy, moved to the branch's real one (its home volume too). */
function atRealCopy(plan: RunPlan, branch: PreparedBranch): RunPlan {
  const probe = branch.probe;
  if (!probe || probe.base === branch.paths.base) return plan;
  const moved = rebasePaths(plan, probe.base, branch.paths.base);
  return plan.homeVolume === undefined ? moved : rebasePaths(moved, plan.homeVolume, homeVolumeName(branch.paths.copy));
}

/** Steps 2 and 3 of {@link planRun}, once the branch step is done. */
async function planAfterBranch(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  io: RunIo,
  early: {
    sessionName: string;
    choice: ReturnType<typeof chooseNetwork>;
    upstreamCa: string[];
    pendingEgress: PendingEgress | undefined;
    userMounts: RunPlan['mounts'];
  },
): Promise<PlannedRun> {
  const { sessionName, choice, upstreamCa, pendingEgress, userMounts } = early;
  // 2. The image (composed from layers when asked), the dependency caches and the credentials,
  //    side by side: the provider CLIs run while the image is resolved.
  const cachesOn = !(req.noCache ?? false) && (req.config?.cache ?? true);
  const [chosen, caches, gathered] = await settleAll(
    chooseImage(ctx, req, facts, io),
    resolveCacheMounts(
      ctx,
      req.projectDir,
      { enabled: cachesOn, fresh: req.cacheFresh ?? false, readOnly: req.cacheRo ?? false },
      (line) => io.say(line),
    ),
    // With a proxy (here or on a remote engine) credentials stay at the proxy: placeholders inside.
    gather(ctx, req, facts, pendingEgress !== undefined, upstreamCa),
  );
  for (const w of gathered.warnings) io.say(`Warning: ${w}`);

  // 3. The plan. An image mino did not build is inspected once: missing, it ends the run here.
  const imageIdentity = await plainImageIdentity(
    ctx.runtime,
    chosen.image,
    ctx.userRuntime ? { runtime: ctx.userRuntime, say: io.say, dryRun: req.dryRun } : undefined,
    // What this machine's engine answered is remembered for it only (not for another engine).
    ctx.engine === undefined ? ctx.stateDir : undefined,
    ctx.engine === undefined ? undefined : { stateDir: ctx.stateDir, engine: ctx.engine },
  );
  const credentials = planCredentialInput(
    ctx,
    sessionName,
    gathered,
    {
      rootless: facts.rootless,
      imageUser: imageIdentity?.uid ?? imageUserOf(chosen.image),
      detach: req.detach,
    },
    // L7 rules: their hosts are terminated, so the session needs its CA even without credentials.
    { sessionCa: choiceTerminates(choice) },
  );
  const network = await networkInputs(ctx, facts, choice, pendingEgress, sessionName, chosen.image);
  // Protected paths: what the host has at the project and the user's read-write volumes.
  const protection = await discoverForRun(ctx, req, facts.pid, userMounts);
  const plan = buildRunPlan(
    runPlanInput(req, facts, ctx.stateKey, {
      sessionName,
      image: chosen.image,
      layerEnv: chosen.env,
      caches,
      credentials,
      imageIdentity,
      ...network,
      protect: protection.facts,
      protectWarnings: protection.rules.warnings,
    }),
  );
  for (const note of plan.network.egress?.notes ?? []) io.say(`Note: ${note}`);
  return { plan, image: chosen, credentials: gathered, cachesOn, protection };
}

/** The session name: `-n`, else the `--branch` NAME's (a generated one for neither). */
function sessionNameOf(req: RunRequest): string {
  if (req.name !== undefined) return validateSessionName(req.name);
  if (req.branch) return validateSessionName(sessionNameForBranch(validateBranchName(req.branch)));
  return defaultSessionName();
}

/** What `--dry-run` shows of a planned run: a note on an image still to build, the egress and protection lines, the podman command. */
export function printDryRun(planned: PlannedRun, io: RunIo): void {
  const { plan, image } = planned;
  if (image.built)
    io.say(`Note: ${image.image} (layers ${image.layers.join(', ')}) is not built yet; a real run builds it first`);
  if (plan.network.egress)
    for (const line of egressDryRunLines(plan.network.egress, plan.labels[LABEL_ENGINE])) io.print(line);
  for (const line of protectionDryRunLines(plan.protection)) io.print(line);
  io.print(formatPlanLine(plan));
}

/**
 * Runs `fn` (the run, or the warming of its pool) with the host side of the plan in place: its
 * warnings said, mino's device directory and the files of the protected paths made; this
 * process's stand-ins released afterwards. `session`: a session runs in `fn` (not a pool's
 * warming): the git repositories it makes in the project are made harmless when it ends
 * (lifecycle/session-repo-guard.ts).
 */
export async function withPlanOnHost<T>(
  ctx: SessionContext,
  planned: PlannedRun,
  pid: number,
  io: RunIo,
  fn: () => Promise<T>,
  session = false,
): Promise<T> {
  const { plan } = planned;
  // A session runs (not a pool's warming): the repositories it makes are checked when it ends.
  let repos: RepoBaseline | undefined;
  if (session) {
    for (const w of checkEndedSessionsRepos(ctx.stateDir, ctx.store, plan.projectDir)) io.say(`Warning: ${w}`);
    repos = recordRepos(ctx.stateDir, plan.sessionName, plan.projectDir);
  }
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  // A container id is host root (rootful, root-owned project): /dev of mino's own (launch/userns.ts).
  if (plan.spec.devDir !== undefined && (await ensureDeviceDir(plan.spec.devDir)))
    log.info(`made the session device directory ${plan.spec.devDir}`);
  let seen: ContainersSeen | undefined;
  try {
    materialiseProtection(ctx, plan, planned.protection.rules, pid);
    seen = containersSeenDuringRun(ctx, plan);
    return await fn();
  } finally {
    await releaseForRun(ctx, plan, pid, seen);
    // A detached session goes on: `mino stop` (or the next run, or gc, once it ended) checks.
    if (repos !== undefined && plan.attached)
      for (const w of checkSessionRepos(ctx.stateDir, plan.sessionName, plan.projectDir, repos))
        io.say(`Warning: ${w}`);
  }
}

/** `--image` is a usage error (exit 2) when it is not an image reference. */
function checkCliImage(image: string): void {
  if (image === 'base') return;
  try {
    validateImageRef(image);
  } catch {
    throw new UsageError(
      `Invalid --image '${printable(image)}': not an image reference`,
      'Use a local image such as localhost/mino-base:latest, or base for the mino base image',
    );
  }
}

/** An egress plan for the early input check (no registry hosts or hook directories read yet). */
function egressPlanStandIn(
  ctx: SessionContext,
  facts: HostFacts,
  pending: PendingEgress,
  sessionName: string,
): EgressPlan {
  return egressPlanFor(ctx, facts, pending.choice, sessionName, undefined, []);
}

/**
 * The credentials step (gather-credentials.ts) of a request. With an egress proxy (`proxied`),
 * every credential that can be swapped in at the proxy stays outside the sandbox.
 */
function gather(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  proxied: boolean,
  upstreamCa: string[],
): Promise<GatheredCredentials> {
  return gatherCredentials({
    upstreamCa,
    ...(proxied
      ? { proxyOnly: proxyMarks(req.config?.customCredentials ?? [], req.config?.credentials?.github.host) }
      : {}),
    flags: req.credentials ?? {},
    config: req.config,
    cliEnv: req.env,
    hostEnv: facts.env ?? {},
    homeDir: facts.homeDir,
    stateDir: ctx.stateDir,
    stateKey: ctx.stateKey,
  });
}

/** Like Promise.all, but waits for every promise, then throws the first failure in argument order. */
async function settleAll<A, B, C>(a: Promise<A>, b: Promise<B>, c: Promise<C>): Promise<[A, B, C]> {
  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  for (const r of [ra, rb, rc]) if (r.status === 'rejected') throw r.reason;
  return [
    (ra as PromiseFulfilledResult<A>).value,
    (rb as PromiseFulfilledResult<B>).value,
    (rc as PromiseFulfilledResult<C>).value,
  ];
}

/** The image of the run: flags over `MINO_LAYERS`/`MINO_IMAGE` over config; see run-image.ts. */
function chooseImage(ctx: SessionContext, req: RunRequest, facts: HostFacts, io: RunIo): Promise<RunImage> {
  // Config is below env: MINO_IMAGE set means the config's image and layers do not apply.
  const configApplies = !facts.envImage;
  return resolveRunImage(ctx.runtime, {
    cliLayers: req.layers,
    cliImage: req.image,
    envLayers: facts.envLayers,
    envImage: facts.envImage,
    configLayers: configApplies ? req.config?.layers : undefined,
    configImage: configApplies ? req.config?.image : undefined,
    // Project layers only when trusted (a snapshot of exactly the trusted bytes).
    layerProjectDir: req.config ? req.config.layerProjectDir : req.projectDir,
    dryRun: req.dryRun,
    onProgress: io.buildProgress,
    ...(ctx.engine === undefined ? {} : { engine: ctx.engine }),
  });
}
