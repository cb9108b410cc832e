import { UsageError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { ensureDeviceDir } from '../host/device-dir.js';
import { disableIdmappedLowerLayers } from '../host/idmapped-layers.js';
import { printable, validateImageRef } from '../runtime/validate.js';
import { DEFAULT_CACHE_MAX_TOTAL_GB, DEFAULT_IMAGE } from '../config/defaults.js';
import { EgressStartError, type EgressDeps } from '../launch/execute-plan.js';
import type { SignalSource } from '../launch/signal-policy.js';
import { formatPlanLine } from '../launch/plan-format.js';
import { buildRunPlan, type RunPlan } from '../launch/run-plan.js';
import { defaultSessionName, validateSessionName } from '../session/session-name.js';
import { runHousekeeping } from './housekeeping.js';
import { gatherCredentials, type GatheredCredentials } from './gather-credentials.js';
import { openSessionCredentials, planCredentialInput, prepareLoginsVolume } from './session-credentials.js';
import { explainStartFailure } from './explain-start-failure.js';
import { finalizeCaches } from '../cache/cache-finalize.js';
import { prepareCaches, resolveCacheMounts } from './prepare-caches.js';
import { plainImageIdentity } from './plain-image.js';
import { prepareVolumes } from './prepare-volumes.js';
import { checkImageBeforeVolumes } from './image-before-volumes.js';
import { resolveRunImage, type RunImage } from './run-image.js';
import { imageUserOf, runPlanInput } from './run-plan-input.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import type { SessionContext } from '../context/session-context.js';
import { recordEnded, recordFailed, recordRunning, recordStarting } from '../lifecycle/session-lifecycle.js';
import { chooseNetwork, egressDryRunLines, egressPlanFor, networkInputs, reportSessionNetwork, startEgressInputs, type PendingEgress } from './session-network.js';
import type { EgressPlan } from '../network/egress-plan.js';
import { startSessionEgress, type EgressStarter } from '../network/session-egress.js';
import { selfArgv } from '../common/self-argv.js';
import { executeWithPool, poolVerdict, type PoolUse } from '../pool/pooled-run.js';
import { warmPool } from './warm-pool.js';
import { DEFAULT_POOL_SETTINGS } from '../pool/pool-settings.js';
import { protectionDryRunLines } from '../protect/protect-format.js';
import { discoverForRun, materialiseProtection, releaseForRun } from './protect-session.js';

/**
 * Use case `mino run`, top to bottom: request → plan (pure, src/launch/run-plan.ts) → record →
 * execute (src/launch/execute-plan.ts) → record. Returns the exit code mino exits with: the
 * command's own (128+n when a signal ended it), 0 for a started detached session.
 */
export async function runSession(ctx: SessionContext, req: RunRequest, facts: HostFacts, io: RunIo, signals?: SignalSource, egressStarter: EgressStarter = startSessionEgress): Promise<number> {
  // 1. Every input is checked before an image build that may take minutes: the plan is built
  //    once with a stand-in image (pure and cheap), then for real.
  if (req.noCache && (req.cacheFresh || req.cacheRo)) {
    throw new UsageError(`--no-cache cannot be combined with ${req.cacheFresh ? '--cache-fresh' : '--cache-ro'}`, 'Use one of them');
  }
  if (req.image !== undefined) checkCliImage(req.image);
  const sessionName = req.name === undefined ? defaultSessionName() : validateSessionName(req.name);
  const choice = chooseNetwork(req);
  const pendingEgress = startEgressInputs(choice, facts);
  const standInNetwork = pendingEgress ? { egress: egressPlanStandIn(ctx, facts, pendingEgress, sessionName) } : { network: choice.mode };
  buildRunPlan(runPlanInput(req, facts, ctx.stateKey, { sessionName, image: req.image ?? DEFAULT_IMAGE, layerEnv: {}, caches: [], ...standInNetwork }));

  // 2. The image (composed from layers when asked), the dependency caches and the credentials,
  //    side by side: the provider CLIs run while the image is resolved.
  const cachesOn = !(req.noCache ?? false) && (req.config?.cache ?? true);
  const [chosen, caches, gathered] = await settleAll(
    chooseImage(ctx, req, facts, io),
    resolveCacheMounts(ctx, req.projectDir, { enabled: cachesOn, fresh: req.cacheFresh ?? false, readOnly: req.cacheRo ?? false }, (line) => io.say(line)),
    gather(ctx, req, facts),
  );
  for (const w of gathered.warnings) io.say(`Warning: ${w}`);

  // 3. The plan. An image mino did not build is inspected once: missing, it ends the run here.
  const imageIdentity = await plainImageIdentity(ctx.runtime, chosen.image, ctx.userRuntime ? { runtime: ctx.userRuntime, say: io.say, dryRun: req.dryRun } : undefined);
  const credentials = planCredentialInput(ctx, sessionName, gathered, {
    rootless: facts.rootless, imageUser: imageIdentity?.uid ?? imageUserOf(chosen.image), detach: req.detach,
  });
  const network = await networkInputs(ctx, facts, choice, pendingEgress, sessionName, chosen.image);
  const resolved = { sessionName, image: chosen.image, layerEnv: chosen.env, caches, credentials, imageIdentity, ...network };
  // Protected paths: what the host has (the volumes come from a first plan: buildRunPlan is pure).
  const protection = await discoverForRun(ctx, req, facts.pid, buildRunPlan(runPlanInput(req, facts, ctx.stateKey, resolved)).mounts);
  const plan = buildRunPlan(runPlanInput(req, facts, ctx.stateKey, { ...resolved, protect: protection.facts, protectWarnings: protection.rules.warnings }));
  for (const note of plan.network.egress?.notes ?? []) io.say(`Note: ${note}`);
  const pool: PoolUse = { settings: req.pool ?? DEFAULT_POOL_SETTINGS, fresh: req.fresh ?? false };
  if (req.dryRun) {
    if (chosen.built) io.say(`Note: ${chosen.image} (layers ${chosen.layers.join(', ')}) is not built yet; a real run builds it first`);
    if (plan.network.egress) for (const line of egressDryRunLines(plan.network.egress)) io.print(line);
    for (const line of protectionDryRunLines(plan.protection)) io.print(line);
    io.print(formatPlanLine(plan));
    // A shell comment, so the output stays a command line one can paste.
    if (req.warmPool === undefined) io.print(`# ${poolVerdict(ctx.stateDir, plan, pool).message}`);
    return 0;
  }
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  // A container id is host root (rootful, root-owned project): /dev of mino's own (launch/userns.ts).
  if (plan.spec.devDir !== undefined && await ensureDeviceDir(plan.spec.devDir)) log.info(`made the session device directory ${plan.spec.devDir}`);
  try {
    materialiseProtection(ctx, plan, protection.rules, facts.pid);
    if (req.warmPool !== undefined) return await warmPool(ctx, plan, req.warmPool, pool.settings, io);
    return await prepareAndExecute(ctx, plan, req, facts, io, signals, egressStarter, chosen, gathered, cachesOn, pool);
  } finally {
    await releaseForRun(ctx, plan, facts.pid);
  }
}

/** Steps 4 and 5 of {@link runSession}: prepare the volumes, caches and credentials, execute. */
async function prepareAndExecute(
  ctx: SessionContext, plan: RunPlan, req: RunRequest, facts: HostFacts, io: RunIo, signals: SignalSource | undefined, egressStarter: EgressStarter,
  chosen: RunImage, gathered: GatheredCredentials, cachesOn: boolean, pool: PoolUse,
): Promise<number> {
  // 4. Record, execute, record; housekeeping runs alongside. The session env file exists only
  //    while the container starts (detached) or runs (attached).
  await checkImageBeforeVolumes(ctx, plan);
  await prepareVolumes(ctx, plan, io.say);
  await prepareLoginsVolume(ctx, plan);
  await recordStarting(ctx, plan, facts.pid, chosen.layers, gathered.providers);
  const housekeeping = runHousekeeping(ctx, { enabled: cachesOn, maxTotalGb: req.config?.cacheMaxTotalGb ?? DEFAULT_CACHE_MAX_TOTAL_GB });
  let opened: Awaited<ReturnType<typeof openSessionCredentials>> | undefined;
  try {
    await prepareCaches(ctx, plan.caches, io.say).catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    opened = await openSessionCredentials(ctx, plan, gathered).catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    const egress: EgressDeps | undefined = plan.network.egress ? {
      start: egressStarter,
      context: {
        session: plan.sessionName, stateDir: ctx.stateDir, stateKey: ctx.stateKey, audit: ctx.audit.enabled,
        ownerPid: facts.pid, rootless: facts.rootless, self: selfArgv(),
      },
    } : undefined;
    return await execute(ctx, plan, req, io, signals, egress, pool);
  } finally {
    await opened?.close();
    for (const line of await housekeeping) io.say(line);
  }
}

/** `--image` is a usage error (exit 2) when it is not an image reference. */
function checkCliImage(image: string): void {
  if (image === 'base') return;
  try {
    validateImageRef(image);
  } catch {
    throw new UsageError(`Invalid --image '${printable(image)}': not an image reference`, 'Use a local image such as localhost/mino-base:latest, or base for the mino base image');
  }
}

/** An egress plan for the early input check (no registry hosts or hook directories read yet). */
function egressPlanStandIn(ctx: SessionContext, facts: HostFacts, pending: PendingEgress, sessionName: string): EgressPlan {
  return egressPlanFor(ctx, facts, pending.choice, sessionName, undefined, []);
}

/** The credentials step (gather-credentials.ts) of a request. */
function gather(ctx: SessionContext, req: RunRequest, facts: HostFacts): Promise<GatheredCredentials> {
  return gatherCredentials({
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
  return [(ra as PromiseFulfilledResult<A>).value, (rb as PromiseFulfilledResult<B>).value, (rc as PromiseFulfilledResult<C>).value];
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
  });
}

/** Starts the container and records what happened (failures included); returns mino's exit code. */
async function execute(ctx: SessionContext, plan: RunPlan, req: RunRequest, io: RunIo, signals: SignalSource | undefined, egress: EgressDeps | undefined, pool: PoolUse): Promise<number> {
  if (plan.attached) recordRunning(ctx, plan, undefined);
  if ((plan.spec.uidMap?.length ?? 0) > 1 && disableIdmappedLowerLayers()) {
    log.info('turned off idmapped lower layers of rootful podman (they fail for split id maps)');
  }
  const outcome = await executeWithPool(ctx, plan, pool, signals, egress).catch(async (err: unknown) => {
    const explained = err instanceof EgressStartError ? err.cause : (await explainStartFailure(ctx.runtime, plan)) ?? (err as Error);
    recordFailed(ctx, plan, explained, err instanceof EgressStartError ? err.exitCode : undefined);
    throw explained;
  });
  if (outcome.kind === 'detached') {
    recordRunning(ctx, plan, outcome.containerId);
    io.say(`Session ${plan.sessionName} started (container ${outcome.containerId.slice(0, 12)})`);
    io.say(`  Logs:   mino logs ${plan.sessionName} -f`);
    io.say(`  Shell:  mino exec ${plan.sessionName}`);
    io.say(`  Stop:   mino stop ${plan.sessionName}`);
    return 0;
  }
  const code = outcome.exitCode;
  if (code === 125) {
    // podman's own failure (its message is already on stderr): make it actionable.
    const err = await explainStartFailure(ctx.runtime, plan);
    if (err) {
      recordFailed(ctx, plan, err, code);
      throw err;
    }
  }
  finalizeCaches(ctx.stateDir, plan.caches.filter((c) => c.finalize).map((c) => c.volume), code);
  recordEnded(ctx, plan, code);
  if (outcome.networkError) io.say(`Warning: the session's egress proxy did not report: ${outcome.networkError.message}`);
  else reportSessionNetwork(plan, req, outcome.network, io);
  return code;
}
