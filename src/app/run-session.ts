import { UsageError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { disableIdmappedLowerLayers } from '../host/idmapped-layers.js';
import { printable, validateImageRef } from '../runtime/validate.js';
import { DEFAULT_CACHE_MAX_TOTAL_GB, DEFAULT_IMAGE } from '../config/defaults.js';
import type { SignalSource } from '../launch/execute-plan.js';
import { formatPlanLine } from '../launch/plan-format.js';
import { buildRunPlan, type RunPlan } from '../launch/run-plan.js';
import { defaultSessionName, validateSessionName } from '../session/session-name.js';
import { runHousekeeping } from './housekeeping.js';
import { explainStartFailure } from './explain-start-failure.js';
import { finalizeCaches, prepareCaches, resolveCacheMounts } from './prepare-caches.js';
import { prepareVolumes } from './prepare-volumes.js';
import { resolveRunImage, type RunImage } from './run-image.js';
import { runPlanInput } from './run-plan-input.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import type { SessionContext } from './session-context.js';
import { recordEnded, recordFailed, recordRunning, recordStarting } from './session-lifecycle.js';
import { executeWithPool, poolVerdict, type PoolUse } from './pool/pooled-run.js';
import { warmPool } from './pool/warm-pool.js';
import { DEFAULT_POOL_SETTINGS } from '../sandbox/pool/pool-settings.js';

/**
 * Use case `mino run`, top to bottom: request → plan (pure, src/launch/run-plan.ts) → record →
 * execute (src/launch/execute-plan.ts) → record. Returns the exit code mino exits with: the
 * command's own (128+n when a signal ended it), 0 for a started detached session.
 */
export async function runSession(ctx: SessionContext, req: RunRequest, facts: HostFacts, io: RunIo, signals?: SignalSource): Promise<number> {
  // 1. Every input is checked before an image build that may take minutes: the plan is built
  //    once with a stand-in image (pure and cheap), then for real.
  if (req.noCache && (req.cacheFresh || req.cacheRo)) {
    throw new UsageError(`--no-cache cannot be combined with ${req.cacheFresh ? '--cache-fresh' : '--cache-ro'}`, 'Use one of them');
  }
  if (req.image !== undefined) checkCliImage(req.image);
  const sessionName = req.name === undefined ? defaultSessionName() : validateSessionName(req.name);
  buildRunPlan(runPlanInput(req, facts, ctx.stateKey, { sessionName, image: req.image ?? DEFAULT_IMAGE, layerEnv: {}, caches: [] }));

  // 2. The image (composed from layers when asked) and the dependency caches.
  const chosen = await chooseImage(ctx, req, facts, io);
  const cachesOn = !(req.noCache ?? false) && (req.config?.cache ?? true);
  const caches = await resolveCacheMounts(ctx, req.projectDir, { enabled: cachesOn, fresh: req.cacheFresh ?? false, readOnly: req.cacheRo ?? false });

  // 3. The plan.
  const plan = buildRunPlan(runPlanInput(req, facts, ctx.stateKey, { sessionName, image: chosen.image, layerEnv: chosen.env, caches }));
  const pool: PoolUse = { settings: req.pool ?? DEFAULT_POOL_SETTINGS, fresh: req.fresh ?? false };
  if (req.dryRun) {
    if (chosen.built) io.say(`Note: ${chosen.image} (layers ${chosen.layers.join(', ')}) is not built yet; a real run builds it first`);
    io.print(formatPlanLine(plan));
    // A shell comment, so the output stays a command line one can paste.
    if (req.warmPool === undefined) io.print(`# ${poolVerdict(ctx.stateDir, plan, pool).message}`);
    return 0;
  }
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  if (req.warmPool !== undefined) return warmPool(ctx, plan, req.warmPool, pool.settings, io);

  // 4. Record, execute, record; housekeeping runs alongside.
  await prepareVolumes(ctx, plan, io.say);
  await recordStarting(ctx, plan, facts.pid, chosen.layers);
  const housekeeping = runHousekeeping(ctx, { enabled: cachesOn, maxTotalGb: req.config?.cacheMaxTotalGb ?? DEFAULT_CACHE_MAX_TOTAL_GB });
  try {
    await prepareCaches(ctx, plan.caches, io.say).catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    return await execute(ctx, plan, io, signals, pool);
  } finally {
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
async function execute(ctx: SessionContext, plan: RunPlan, io: RunIo, signals: SignalSource | undefined, pool: PoolUse): Promise<number> {
  if (plan.attached) recordRunning(ctx, plan, undefined);
  if ((plan.spec.uidMap?.length ?? 0) > 1 && disableIdmappedLowerLayers()) {
    log.info('turned off idmapped lower layers of rootful podman (they fail for split id maps)');
  }
  const outcome = await executeWithPool(ctx, plan, pool, signals).catch(async (err: unknown) => {
    const explained = (await explainStartFailure(ctx.runtime, plan)) ?? (err as Error);
    recordFailed(ctx, plan, explained);
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
  return code;
}
