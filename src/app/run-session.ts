import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { buildRunPlan, type RunPlan } from '../launch/run-plan.js';
import { formatPlanLine } from '../launch/plan-format.js';
import { statusForExit } from '../session/reconcile.js';
import { isActive, newSessionRecord } from '../session/session-record.js';
import { defaultSessionName, validateSessionName } from '../session/session-name.js';
import { SessionExistsError } from '../session/session-store.js';
import { VERSION } from '../version.js';
import type { BuildEvent } from '../image/build-output.js';
import type { RunConfig } from '../config/run-config.js';
import { prepareVolumes } from './prepare-volumes.js';
import { finalizeCaches, prepareCaches, resolveCacheMounts } from './prepare-caches.js';
import { enforceCacheBudget } from './enforce-cache-budget.js';
import type { CacheMount } from '../cache/cache-mounts.js';
import { processAlive, reconcileSessions } from './reconcile-sessions.js';
import { minoPaths } from '../common/xdg-paths.js';
import { forgetComposed } from '../image/image-index.js';
import { isComposedTag } from '../layer/compose-hash.js';
import { isMinoImage } from '../volume/home-volume.js';
import { DEFAULT_IMAGE, resolveRunImage } from './run-image.js';
import type { SessionContext } from './session-context.js';

/** What the user asked `mino run` for (CLI flags, already parsed). */
export interface RunRequest {
  name?: string;
  project?: string;
  image?: string;
  /** `--layers` values (each may be comma-separated). */
  layers?: string[];
  env: string[];
  volumes: string[];
  detach: boolean;
  readOnly: boolean;
  network?: string;
  allowHome: boolean;
  /** `--no-home`: no per-project home volume at /home/developer. */
  noHome?: boolean;
  /** `--no-cache`: no dependency cache volumes. */
  noCache?: boolean;
  /** `--cache-fresh`: start the caches of this run empty. */
  cacheFresh?: boolean;
  /** `--cache-ro`: mount complete caches read-only. */
  cacheRo?: boolean;
  /** Values from the config files (below flags and env); undefined = none loaded. */
  config?: RunConfig;
  command: string[];
  dryRun: boolean;
  /** Shell for runs without a command. */
  shell: string;
}

/** Where `run` writes its own messages (never stdout: that belongs to the command). */
export interface RunIo {
  stdinIsTty: boolean;
  /** Progress and notices, for stderr. */
  say(message: string): void;
  /** The dry-run command line, for stdout. */
  print(line: string): void;
  /** True when the PodmanRuntime runs rootless (non-root user, or a VM). */
  rootless: boolean;
  /** Progress of a composed-image build. */
  buildProgress?: (event: BuildEvent) => void;
}

function resolveProject(dir: string | undefined): string {
  const path = resolve(dir ?? process.cwd());
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new MinoError(`Project directory ${path} does not exist`, { hint: 'Pass an existing directory with -p/--project', exitCode: 2 });
  }
  if (!statSync(real).isDirectory()) {
    throw new MinoError(`Project ${real} is not a directory`, { hint: 'Pass a directory with -p/--project', exitCode: 2 });
  }
  return real;
}

/** The uid mino-built images run as (`developer`); other images are left to podman. */
function imageUserOf(image: string): number | undefined {
  return isMinoImage(image) ? 1000 : undefined;
}

/** What runSession resolved before planning: the project and the image with its layer env. */
interface ChosenImage {
  /** Canonical project directory (resolveProject). */
  projectDir: string;
  image: string;
  layerEnv: Record<string, string>;
}

/** Builds the run plan for a request: every check happens here, before any container work. */
export function planRun(
  ctx: SessionContext,
  req: RunRequest,
  io: Pick<RunIo, 'stdinIsTty' | 'rootless'>,
  chosen: ChosenImage,
  caches: readonly CacheMount[] = [],
): RunPlan {
  const sessionName = req.name === undefined ? defaultSessionName() : validateSessionName(req.name);
  const { image } = chosen;
  return buildRunPlan({
    sessionName,
    projectDir: chosen.projectDir,
    homeDir: safeRealpath(homedir()),
    allowHome: req.allowHome,
    image,
    layerEnv: chosen.layerEnv,
    command: req.command,
    defaultShell: req.config?.shell ?? req.shell,
    detach: req.detach,
    readOnly: req.readOnly || (req.config?.readOnly ?? false),
    network: req.network ?? req.config?.network,
    cliEnv: req.env,
    cliVolumes: req.volumes,
    configEnv: req.config?.env,
    configVolumes: req.config?.volumes,
    workdir: req.config?.workdir,
    rootless: io.rootless,
    stdinIsTty: io.stdinIsTty,
    ownerPid: process.pid,
    hostUid: process.getuid?.() ?? 0,
    hostGid: process.getgid?.() ?? 0,
    imageUser: imageUserOf(image),
    minoVersion: VERSION,
    stateKey: ctx.stateKey,
    resourceLimits: !(io.rootless && cgroupV1()),
    home: !(req.noHome ?? false) && (req.config?.home ?? true),
    caches,
  });
}

/** True on a cgroup v1 (or hybrid) host: no unified hierarchy at /sys/fs/cgroup. */
function cgroupV1(): boolean {
  return process.platform === 'linux' && !existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Creates the session file; a stale active record (owner gone) is reconciled once first. */
async function createSession(ctx: SessionContext, plan: RunPlan): Promise<void> {
  const record = newSessionRecord({
    name: plan.sessionName,
    projectDir: plan.projectDir,
    command: plan.command,
    containerId: plan.containerName,
    status: 'starting',
    ownerPid: process.pid,
    mode: plan.mode,
    homeVolume: plan.homeVolume ?? null,
  });
  try {
    ctx.store.create(record);
  } catch (err) {
    if (!(err instanceof SessionExistsError)) throw err;
    const existing = ctx.store.get(plan.sessionName);
    if (!existing || !isActive(existing) || (typeof existing.owner_pid === 'number' && processAlive(existing.owner_pid))) throw err;
    await reconcileSessions(ctx);
    ctx.store.create(record);
  }
}

/** `cache.max_total_gb` when no config file sets it (the schema default). */
const DEFAULT_MAX_TOTAL_GB = 50;

/** How often `mino run` reconciles sessions on its own (list/stop/exec/gc always do). */
const GC_INTERVAL_MS = 10 * 60 * 1000;

/**
 * The cheap gc at the start of `mino run`: at most every 10 minutes (one stat otherwise), and
 * then concurrently with the container start, so it never delays the command.
 */
function cheapGc(ctx: SessionContext): Promise<unknown> | undefined {
  const stamp = join(ctx.stateDir, 'last-reconcile');
  try {
    if (Date.now() - statSync(stamp).mtimeMs < GC_INTERVAL_MS) return undefined;
  } catch {
    // never reconciled: do it now
  }
  try {
    mkdirSync(ctx.stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(stamp, '');
  } catch {
    return undefined;
  }
  return reconcileSessions(ctx).catch((err: unknown) => log.warn('background reconcile failed', { error: String(err) }));
}

/**
 * Runs a session: plan, record, one `podman run`, record the end. Returns the exit code mino
 * should exit with (the command's own, 128+n when a signal ended it).
 */
export async function runSession(ctx: SessionContext, req: RunRequest, io: RunIo): Promise<number> {
  // Every input is checked before an image build that may take minutes: plan once with a
  // stand-in image (pure and cheap), then for real with the chosen one.
  if (req.noCache && (req.cacheFresh || req.cacheRo)) {
    throw new UsageError(`--no-cache cannot be combined with ${req.cacheFresh ? '--cache-fresh' : '--cache-ro'}`, 'Use one of them');
  }
  const name = req.name === undefined ? defaultSessionName() : validateSessionName(req.name);
  const fixed = { ...req, name };
  const projectDir = resolveProject(req.project);
  planRun(ctx, fixed, io, { projectDir, image: req.image ?? DEFAULT_IMAGE, layerEnv: {} });
  const chosen = await resolveRunImage(ctx.runtime, {
    cliLayers: req.layers,
    cliImage: req.image,
    envLayers: process.env.MINO_LAYERS,
    envImage: process.env.MINO_IMAGE,
    // Config is below env: MINO_IMAGE set means the config's image and layers do not apply.
    configLayers: process.env.MINO_IMAGE ? undefined : req.config?.layers,
    configImage: process.env.MINO_IMAGE ? undefined : req.config?.image,
    // Project layers only when trusted (a snapshot of exactly the trusted bytes).
    layerProjectDir: req.config ? req.config.layerProjectDir : projectDir,
    dryRun: req.dryRun,
    onProgress: io.buildProgress,
  });
  const cachesOn = !(req.noCache ?? false) && (req.config?.cache ?? true);
  const caches = await resolveCacheMounts(ctx, projectDir, {
    enabled: cachesOn,
    fresh: req.cacheFresh ?? false,
    readOnly: req.cacheRo ?? false,
  });
  const plan = planRun(ctx, fixed, io, { projectDir, image: chosen.image, layerEnv: chosen.env }, caches);
  if (req.dryRun) {
    if (chosen.built) io.say(`Note: ${chosen.image} (layers ${chosen.layers.join(', ')}) is not built yet; a real run builds it first`);
    io.print(formatPlanLine(plan));
    return 0;
  }
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  await prepareVolumes(ctx, plan, io.say);
  await createSession(ctx, plan);
  const gc = Promise.resolve(cheapGc(ctx))
    .then(() => (cachesOn ? enforceCacheBudget(ctx, req.config?.cacheMaxTotalGb ?? DEFAULT_MAX_TOTAL_GB) : []))
    .then((lines) => {
      for (const line of lines) io.say(line);
    });
  ctx.audit.record('session.created', {
    name: plan.sessionName, project_dir: plan.projectDir, image: plan.image, layers: chosen.layers, command: plan.command,
    network: plan.network.mode, mode: plan.mode, home_volume: plan.homeVolume ?? null,
  });
  try {
    await prepareCaches(ctx, plan.caches, io.say);
    const code = plan.attached ? await runAttached(ctx, plan, io) : await runDetached(ctx, plan, io);
    await gc;
    return code;
  } catch (err) {
    ctx.store.update(plan.sessionName, { status: 'failed' });
    ctx.audit.record('session.failed', { name: plan.sessionName, error: (err as Error).message });
    await gc;
    throw err;
  }
}

async function runDetached(ctx: SessionContext, plan: RunPlan, io: RunIo): Promise<number> {
  const id = await ctx.runtime.run(plan.spec).catch(async (err: unknown) => {
    throw await explainStartFailure(ctx, plan, err);
  });
  ctx.store.update(plan.sessionName, { status: 'running', container_id: id });
  ctx.audit.record('session.started', { name: plan.sessionName, container_id: id });
  io.say(`Session ${plan.sessionName} started (container ${id.slice(0, 12)})`);
  io.say(`  Logs:   mino logs ${plan.sessionName} -f`);
  io.say(`  Shell:  mino exec ${plan.sessionName}`);
  io.say(`  Stop:   mino stop ${plan.sessionName}`);
  return 0;
}

async function runAttached(ctx: SessionContext, plan: RunPlan, io: RunIo): Promise<number> {
  ctx.store.update(plan.sessionName, { status: 'running' });
  ctx.audit.record('session.started', { name: plan.sessionName, container_id: plan.containerName });
  const release = stopOnSignals(ctx, plan);
  let code: number;
  try {
    code = await ctx.runtime.runAttached(plan.spec);
  } finally {
    release();
  }
  if (code === 125) {
    // podman's own failure (its message is already on stderr): make it actionable.
    const err = await explainStartFailure(ctx, plan, undefined);
    if (err) {
      ctx.store.update(plan.sessionName, { status: 'failed', exit_code: code });
      ctx.audit.record('session.failed', { name: plan.sessionName, error: err.message });
      throw err;
    }
  }
  const status = statusForExit(code);
  finalizeCaches(ctx.stateDir, plan.caches.filter((c) => c.finalize).map((c) => c.volume), code);
  ctx.store.update(plan.sessionName, { status, exit_code: code });
  ctx.audit.record(status === 'failed' ? 'session.failed' : 'session.stopped', { name: plan.sessionName, exit_code: code });
  log.info('session ended', { name: plan.sessionName, exit_code: code });
  return code;
}

/** A clearer error for a container that could not start (missing image most often). */
async function explainStartFailure(ctx: SessionContext, plan: RunPlan, err: unknown): Promise<MinoError> {
  if (!(await ctx.runtime.imageExists(plan.image).catch(() => true))) {
    if (isComposedTag(plan.image)) {
      // Removed behind mino's back since it last used it: forget it, so the next run composes it again.
      forgetComposed(minoPaths().dataDir, plan.image);
      return new MinoError(`Image ${plan.image} for the selected layers was removed`, {
        hint: 'Run the same command again: mino builds it again first',
      });
    }
    return new MinoError(`Image ${plan.image} is not available locally`, {
      hint: plan.image === DEFAULT_IMAGE
        ? "Run 'mino setup --yes' to build it (a few minutes, once), or pass --image <local image>"
        : `Build or pull it first (podman pull ${plan.image}), or pass another --image`,
    });
  }
  if (err instanceof MinoError) return err;
  return new MinoError(`The container for session '${plan.sessionName}' could not start`, {
    hint: "See podman's message above; 'mino status' checks the engine",
    cause: err,
  });
}

/**
 * While an attached run lasts: SIGTERM and SIGHUP stop the container (podman stop: SIGTERM to
 * the command through --init, SIGKILL after 10 s); SIGINT is left to podman's signal proxy,
 * which hands it to the command, with a stop as fallback if the container is still up 5 s
 * later; a second signal kills it. Returns a function that removes the handlers.
 */
function stopOnSignals(ctx: SessionContext, plan: RunPlan): () => void {
  let signals = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    void ctx.runtime.stop(plan.containerName, 10).catch(() => undefined);
  };
  const handler = (signal: NodeJS.Signals): void => {
    signals++;
    log.info('signal received', { signal, count: signals });
    if (signals > 1) {
      void ctx.runtime.kill(plan.containerName).catch(() => undefined);
    } else if (signal === 'SIGINT') {
      timer = setTimeout(stop, 5000);
      timer.unref();
    } else {
      stop();
    }
  };
  const signalsHandled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signalsHandled) process.on(s, handler);
  return () => {
    if (timer) clearTimeout(timer);
    for (const s of signalsHandled) process.off(s, handler);
  };
}
