import { dirname } from 'node:path';
import { log } from '../common/logger.js';
import { trace } from '../common/trace.js';
import { errorMessage } from '../common/errors.js';
import { collectWork } from '../workspace/collect-work.js';
import { copyForkHome, forkHomeSource } from '../branch/fork-home.js';
import { gitExcludePath } from '../protect/protect-private.js';
import { dataDirOf, type SessionContext } from '../context/session-context.js';
import { disableIdmappedLowerLayers } from '../host/idmapped-layers.js';
import { DEFAULT_CACHE_MAX_TOTAL_GB } from '../config/defaults.js';
import { EgressStartError, type EgressDeps } from '../launch/execute-plan.js';
import type { SignalSource } from '../launch/signal-policy.js';
import type { RunPlan } from '../launch/run-plan.js';
import { housekeepAlongside } from './housekeeping.js';
import type { GatheredCredentials } from './gather-credentials.js';
import { openSessionCredentials, prepareLoginsVolume } from './session-credentials.js';
import { proxiedCredentials } from './session-tls.js';
import { explainStartFailure } from './explain-start-failure.js';
import { finalizeCaches } from '../cache/cache-finalize.js';
import { prepareCaches } from './prepare-caches.js';
import { prepareVolumes } from './prepare-volumes.js';
import { checkImageBeforeVolumes } from './image-before-volumes.js';
import type { RunImage } from './run-image.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import { recordEnded, recordFailed, recordRunning, recordStarting } from '../lifecycle/session-lifecycle.js';
import { reportSessionNetwork } from './session-network.js';
import { startSessionEgress, type EgressStarter } from '../network/session-egress.js';
import { selfArgv } from '../common/self-argv.js';
import { executeWithPool, poolVerdict, type PoolUse } from '../pool/pooled-run.js';
import { DEFAULT_POOL_SETTINGS } from '../pool/pool-settings.js';
import { planRun, printDryRun, withPlanOnHost } from './plan-run.js';
import { removeProbe } from '../branch/prepare-branch.js';
import { rebindStubs } from '../lifecycle/protect-stubs.js';
import { adoptWarmCopy, mountedPaths, warmCopiesDir, warmCopyOf } from '../workspace/warm-copy.js';
import { remoteRunOf, returnAfterSession, shipForSession, startReturnTrip, type RemoteRun } from './remote-project.js';
import { remoteEgressWhenCold, startRemoteEgressAhead } from './remote-egress-run.js';
import { withCaBundleRepair } from './remote-ca-bundle.js';

/** What {@link runSession} takes from outside besides the request (tests replace them). */
export interface RunDeps {
  /** Where termination signals come from (default: this process). */
  signals?: SignalSource;
  /** Starts a session's egress proxy (default: the real one). */
  egressStarter?: EgressStarter;
  /** Starts the pool's background refill (default: a detached `mino __pool-refill`). */
  refill?: PoolUse['refill'];
}

/**
 * Use case `mino run`, top to bottom: request → plan (plan-run.ts, the pure plan builder
 * src/launch/run-plan.ts) → record → execute (the executor, src/launch/execute-plan.ts, with the
 * warm pool) → record. Returns the exit code mino exits with: the command's own (128+n when a
 * signal ended it), 0 for a started detached session.
 */
export async function runSession(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  io: RunIo,
  deps: RunDeps = {},
): Promise<number> {
  const { signals, egressStarter = startSessionEgress } = deps;
  const local = await planRun(ctx, req, facts, io);
  trace('planned', local.plan.sessionName);
  // On a remote engine: the plan rewritten for it, the project shipped there and back.
  const remote = remoteRunOf(ctx, local, req);
  const planned = remote?.planned ?? local;
  const { plan } = planned;
  const pool: PoolUse = {
    settings: req.pool ?? DEFAULT_POOL_SETTINGS,
    fresh: req.fresh ?? false,
    ...(deps.refill ? { refill: deps.refill } : {}),
  };
  if (req.dryRun) {
    printDryRun(planned, io);
    // A shell comment, so the output stays a command line one can paste.
    // A fork's dry run makes no copy (its plan shows the project): it cannot tell.
    io.print(
      req.branch === undefined || plan.branch
        ? `# ${poolVerdict(ctx.stateDir, plan, pool).message}`
        : '# Pool: a dry run of mino fork cannot tell whether a warm container would serve it',
    );
    removeProbe(planned.branch);
    return 0;
  }
  // A branch session's copy moves into the warm container it claims (workspace/warm-copy.ts).
  if (planned.branch) pool.adopt = (warmName) => adoptBranchCopy(ctx, plan, warmName);
  const code = await withPlanOnHost(
    ctx,
    planned,
    facts.pid,
    io,
    () =>
      prepareAndExecute(
        ctx,
        plan,
        req,
        facts,
        io,
        signals,
        egressStarter,
        planned.image,
        planned.credentials,
        planned.cachesOn,
        pool,
        remote,
      ),
    true,
  );
  // A branch session's work comes home when its command ended (a detached one's at `mino stop`).
  if (planned.branch && plan.attached) await bringWorkHome(ctx, plan.projectDir, io);
  return code;
}

/**
 * Moves a branch session's working copy into the folder of the warm container `warmName` it
 * claimed, which then takes the copy's place; its stand-ins are recorded with their new inodes.
 */
function adoptBranchCopy(ctx: SessionContext, plan: RunPlan, warmName: string): boolean {
  const base = dirname(plan.projectDir);
  const warm = warmCopyOf(warmCopiesDir(dirname(base)), warmName);
  if (!adoptWarmCopy(base, warm, mountedPaths(plan.spec.mounts ?? [], plan.projectDir, plan.workdir))) return false;
  rebindStubs(ctx.stateDir, plan.projectDir);
  return true;
}

/** Brings a branch session's work home and says where it is; a failure is a warning (the copy keeps the work). */
async function bringWorkHome(ctx: SessionContext, copy: string, io: RunIo): Promise<void> {
  try {
    for (const line of await collectWork(copy, gitExcludePath(dataDirOf(ctx)))) (io.report ?? io.say)(line);
  } catch (err) {
    io.say(`Warning: ${errorMessage(err)}`);
  }
}

/** Steps 4 and 5 of {@link runSession}: prepare the volumes, caches and credentials, execute. */
async function prepareAndExecute(
  ctx: SessionContext,
  plan: RunPlan,
  req: RunRequest,
  facts: HostFacts,
  io: RunIo,
  signals: SignalSource | undefined,
  egressStarter: EgressStarter,
  chosen: RunImage,
  gathered: GatheredCredentials,
  cachesOn: boolean,
  pool: PoolUse,
  remote: RemoteRun | undefined,
): Promise<number> {
  // 4. Record, execute, record; housekeeping runs in the background. The session env file exists only
  //    while the container starts (detached) or runs (attached).
  await checkImageBeforeVolumes(ctx, plan);
  // `mino fork`: the new branch session starts with a copy of the source session's home volume
  // (whether it exists is asked while the new volumes are made).
  const [, forkHome] = await Promise.all([
    prepareVolumes(ctx, plan, io.say),
    req.forkFrom === undefined ? undefined : forkHomeSource(ctx, ctx.store.get(req.forkFrom)?.home_volume),
  ]);
  if (forkHome !== undefined && (await copyForkHome(ctx, forkHome, plan)))
    io.say(`Home volume ${plan.homeVolume ?? ''}: a copy of session ${req.forkFrom}'s`);
  await prepareLoginsVolume(ctx, plan);
  trace('volumes ready');
  // On a remote engine the session's proxy starts there alongside the shipping (remote-egress-run.ts).
  // A contained one a warm container there likely serves: only if it starts cold after all.
  const warmFirst =
    remote !== undefined && plan.network.egress !== undefined && poolVerdict(ctx.stateDir, plan, pool).kind === 'warm';
  const onEngineStart = remote && !warmFirst ? startRemoteEgressAhead(ctx, plan, io) : undefined;
  let executing = false;
  try {
    if (remote) await shipForSession(remote, io);
    await recordStarting(ctx, plan, facts.pid, chosen.layers, gathered.providers);
  } catch (err) {
    await onEngineStart?.cancel();
    throw err;
  }
  const housekeeping = housekeepAlongside(ctx, {
    enabled: cachesOn,
    maxTotalGb: req.config?.cacheMaxTotalGb ?? DEFAULT_CACHE_MAX_TOTAL_GB,
  });
  let opened: Awaited<ReturnType<typeof openSessionCredentials>> | undefined;
  let early: ReturnType<typeof startReturnTrip> | undefined;
  try {
    await prepareCaches(ctx, plan.caches, io.say).catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    // A warm container likely serves the run: its own CA does, the session's is made only for a
    // cold start. Asked only of runs with a session CA (executeWithPool asks the pool again).
    const deferCa =
      plan.credentials.sessionCa &&
      plan.attached &&
      (remote ? warmFirst : poolVerdict(ctx.stateDir, plan, pool).kind === 'warm');
    opened = await openSessionCredentials(ctx, plan, gathered, facts.env, { deferCa }).catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    // A remote session's proxy takes the session CA and the credentials through podman exec.
    onEngineStart?.give(opened.egressSecrets);
    const { egressSecrets: secrets, makeCa: deferredCa } = opened;
    if (warmFirst) pool.coldOnEngine = remoteEgressWhenCold(ctx, plan, io, async () => secrets ?? deferredCa?.());
    if (plan.network.egress && plan.credentials.proxy.length > 0)
      pool.credentials = proxiedCredentials(plan.credentials.proxy, gathered.proxyValues);
    const makeCa = opened.makeCa;
    const egress: EgressDeps | undefined = plan.network.egress
      ? {
          start: egressStarter,
          context: {
            session: plan.sessionName,
            stateDir: ctx.stateDir,
            stateKey: ctx.stateKey,
            audit: ctx.audit.enabled,
            ownerPid: facts.pid,
            rootless: facts.rootless,
            self: selfArgv(),
            ...(opened.egressSecrets ? { secrets: opened.egressSecrets } : {}),
          },
          ...(makeCa ? { prepare: async () => ({ secrets: await makeCa() }) } : {}),
        }
      : undefined;
    trace('caches and credentials ready');
    const onEngine = await onEngineStart?.ready.catch((err: unknown) => {
      recordFailed(ctx, plan, err as Error);
      throw err;
    });
    // An attached remote session: the return trip's helper starts alongside it.
    early = remote && plan.attached ? startReturnTrip(remote) : undefined;
    executing = true;
    const code = await execute(
      ctx,
      onEngine?.plan ?? plan,
      req,
      io,
      signals,
      onEngine || warmFirst ? undefined : egress,
      pool,
    ).catch(async (err: unknown) => {
      await onEngine?.abort();
      throw err;
    });
    // The proxy's record and the project's changes come back at once.
    await Promise.all([
      onEngine && plan.attached ? onEngine.finish(req, io) : undefined,
      remote && plan.attached ? returnAfterSession(remote, io, early) : undefined,
    ]);
    return code;
  } finally {
    if (!executing) await onEngineStart?.cancel();
    await early?.cancel();
    await opened?.close();
    for (const line of await housekeeping) io.say(line);
  }
}

/** Starts the container and records what happened (failures included); returns mino's exit code. */
async function execute(
  ctx: SessionContext,
  plan: RunPlan,
  req: RunRequest,
  io: RunIo,
  signals: SignalSource | undefined,
  egress: EgressDeps | undefined,
  pool: PoolUse,
): Promise<number> {
  if (plan.attached) recordRunning(ctx, plan, undefined);
  if ((plan.spec.uidMap?.length ?? 0) > 1 && disableIdmappedLowerLayers()) {
    log.info('turned off idmapped lower layers of rootful podman (they fail for split id maps)');
  }
  // On another engine: the host CA bundle's secret made again, should it have gone (remote-ca-bundle.ts).
  const start = () => executeWithPool(ctx, plan, pool, signals, egress);
  const outcome = await withCaBundleRepair(ctx, plan, start).catch(async (err: unknown) => {
    const explained =
      err instanceof EgressStartError ? err.cause : ((await explainStartFailure(ctx.runtime, plan)) ?? (err as Error));
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
  finalizeCaches(
    ctx.stateDir,
    plan.caches.filter((c) => c.finalize).map((c) => c.volume),
    code,
  );
  recordEnded(ctx, plan, code);
  if (outcome.networkError)
    io.say(`Warning: the session's egress proxy did not report: ${outcome.networkError.message}`);
  else reportSessionNetwork(plan, req, outcome.network, io);
  return code;
}
