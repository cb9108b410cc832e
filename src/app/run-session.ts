import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MinoError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { buildRunPlan, type RunPlan } from '../launch/run-plan.js';
import { formatPlanLine } from '../launch/plan-format.js';
import { statusForExit } from '../session/reconcile.js';
import { isActive, newSessionRecord } from '../session/session-record.js';
import { defaultSessionName, validateSessionName } from '../session/session-name.js';
import { SessionExistsError } from '../session/session-store.js';
import { VERSION } from '../version.js';
import { processAlive, reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from './session-context.js';

/** Image used when `--image` is not given (built by `mino setup`). */
export const DEFAULT_IMAGE = 'localhost/mino-base:latest';

/** What the user asked `mino run` for (CLI flags, already parsed). */
export interface RunRequest {
  name?: string;
  project?: string;
  image?: string;
  env: string[];
  volumes: string[];
  detach: boolean;
  readOnly: boolean;
  network?: string;
  allowHome: boolean;
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
  return /^(localhost\/)?mino-(base|composed-[0-9a-f]+)(:|$)/.test(image) ? 1000 : undefined;
}

/** Builds the run plan for a request: every check happens here, before any container work. */
export function planRun(ctx: SessionContext, req: RunRequest, io: Pick<RunIo, 'stdinIsTty' | 'rootless'>): RunPlan {
  const sessionName = req.name === undefined ? defaultSessionName() : validateSessionName(req.name);
  const image = req.image ?? process.env.MINO_IMAGE ?? DEFAULT_IMAGE;
  return buildRunPlan({
    sessionName,
    projectDir: resolveProject(req.project),
    homeDir: safeRealpath(homedir()),
    allowHome: req.allowHome,
    image,
    command: req.command,
    defaultShell: req.shell,
    detach: req.detach,
    readOnly: req.readOnly,
    network: req.network,
    cliEnv: req.env,
    cliVolumes: req.volumes,
    rootless: io.rootless,
    stdinIsTty: io.stdinIsTty,
    ownerPid: process.pid,
    hostUid: process.getuid?.() ?? 0,
    hostGid: process.getgid?.() ?? 0,
    imageUser: imageUserOf(image),
    minoVersion: VERSION,
    stateKey: ctx.stateKey,
    resourceLimits: !(io.rootless && cgroupV1()),
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
  const plan = planRun(ctx, req, io);
  if (req.dryRun) {
    io.print(formatPlanLine(plan));
    return 0;
  }
  for (const w of plan.warnings) io.say(`Warning: ${w}`);
  await createSession(ctx, plan);
  const gc = cheapGc(ctx);
  ctx.audit.record('session.created', {
    name: plan.sessionName, project_dir: plan.projectDir, image: plan.image, command: plan.command,
    network: plan.network.mode, mode: plan.mode, home_volume: null,
  });
  try {
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
  ctx.store.update(plan.sessionName, { status, exit_code: code });
  ctx.audit.record(status === 'failed' ? 'session.failed' : 'session.stopped', { name: plan.sessionName, exit_code: code });
  log.info('session ended', { name: plan.sessionName, exit_code: code });
  return code;
}

/** A clearer error for a container that could not start (missing image most often). */
async function explainStartFailure(ctx: SessionContext, plan: RunPlan, err: unknown): Promise<MinoError> {
  if (!(await ctx.runtime.imageExists(plan.image).catch(() => true))) {
    return new MinoError(`Image ${plan.image} is not available locally`, {
      hint: plan.image === DEFAULT_IMAGE
        ? "Run 'mino setup' to build it, or pass --image <local image>"
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
