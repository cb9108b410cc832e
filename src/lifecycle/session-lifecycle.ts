import { log } from '../common/logger.js';
import { pidAlive } from '../common/pid-alive.js';
import type { RunPlan } from '../launch/run-plan.js';
import { statusForExit } from '../session/reconcile.js';
import { isActive, newSessionRecord } from '../session/session-record.js';
import { SessionOutputStore } from '../session/session-output.js';
import { SessionExistsError } from '../session/session-store.js';
import { reconcileSessions } from './reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The session record and audit trail of one `mino run`, step by step: `starting` before the
 * container exists, `running` once podman started it, then `stopped`/`failed` with the exit code.
 * Every step writes the record and the matching audit event, nothing else.
 */

/**
 * Creates the session file (`starting`) and records `session.created`. A stale active record of
 * the same name (its owner process is gone) is reconciled once first; a live one is an error
 * ({@link SessionExistsError}).
 */
export async function recordStarting(
  ctx: SessionContext,
  plan: RunPlan,
  ownerPid: number,
  layers: readonly string[],
  providers: readonly string[] = [],
): Promise<void> {
  const record = newSessionRecord({
    providers,
    prelude: plan.credentials.preludeParts.env,
    name: plan.sessionName,
    projectDir: plan.projectDir,
    command: plan.command,
    containerId: plan.containerName,
    status: 'starting',
    ownerPid,
    mode: plan.mode,
    homeVolume: plan.homeVolume ?? null,
    network: plan.network.mode,
    ...(plan.branch ? { branch: plan.branch.name } : {}),
    ...(ctx.engine === undefined ? {} : { engine: ctx.engine }),
  });
  try {
    ctx.store.create(record);
  } catch (err) {
    if (!(err instanceof SessionExistsError)) throw err;
    const existing = ctx.store.get(plan.sessionName);
    if (!existing || !isActive(existing) || (typeof existing.owner_pid === 'number' && pidAlive(existing.owner_pid)))
      throw err;
    await reconcileSessions(ctx);
    ctx.store.create(record);
  }
  // Output saved for an earlier session of this name belongs to that one.
  new SessionOutputStore(ctx.stateDir).remove(plan.sessionName);
  ctx.audit.record('session.created', {
    name: plan.sessionName,
    project_dir: plan.projectDir,
    image: plan.image,
    layers,
    command: plan.command,
    network: plan.network.mode,
    mode: plan.mode,
    home_volume: plan.homeVolume ?? null,
    ...(plan.branch ? { branch: plan.branch.name, repo: plan.branch.hostProjectDir } : {}),
    ...(ctx.engine === undefined ? {} : { engine: ctx.engine }),
    ...(plan.network.egress ? { network_allow: plan.network.egress.policy.allow } : {}),
  });
  if (providers.length > 0 || plan.credentials.secretVariables.length > 0) {
    // mino 1.6's event, with provider and variable names: never a value.
    ctx.audit.record('credentials.injected', {
      session_name: plan.sessionName,
      providers: [...providers],
      variables: plan.credentials.secretVariables,
      proxy_only: plan.credentials.proxy.map((r) => r.variable),
    });
  }
}

/**
 * The container is up: `running`, with its ID once podman gave one. Not flushed to disk: a power
 * cut that brings back `starting` leaves a record whose owner is gone, which reconcile settles
 * (the `starting` record itself, made before the container, is).
 */
export function recordRunning(ctx: SessionContext, plan: RunPlan, containerId: string | undefined): void {
  ctx.store.update(
    plan.sessionName,
    { status: 'running', ...(containerId === undefined ? {} : { container_id: containerId }) },
    { durable: false },
  );
  ctx.audit.record('session.started', { name: plan.sessionName, container_id: containerId ?? plan.containerName });
}

/**
 * The command ended with `exitCode`: `stopped`, or `failed` when it could not start at all. Not
 * flushed to disk (no run waits for the disk at its end): a power cut may bring back `running`,
 * whose owner is gone, and reconcile settles it.
 */
export function recordEnded(ctx: SessionContext, plan: RunPlan, exitCode: number): void {
  const status = statusForExit(exitCode);
  ctx.store.update(plan.sessionName, { status, exit_code: exitCode }, { durable: false });
  ctx.audit.record(status === 'failed' ? 'session.failed' : 'session.stopped', {
    name: plan.sessionName,
    exit_code: exitCode,
  });
  log.info('session ended', { name: plan.sessionName, exit_code: exitCode });
}

/** mino could not run the session: `failed`, with podman's exit code when there is one. */
export function recordFailed(ctx: SessionContext, plan: RunPlan, error: Error, exitCode?: number): void {
  ctx.store.update(plan.sessionName, { status: 'failed', ...(exitCode === undefined ? {} : { exit_code: exitCode }) });
  ctx.audit.record('session.failed', { name: plan.sessionName, error: error.message });
}
