import { join } from 'node:path';
import { selfArgv } from '../common/self-argv.js';
import { egressBaseOf, type SessionContext } from '../context/session-context.js';
import type { RunPlan } from '../launch/run-plan.js';
import { buildEgressPlan } from '../network/egress-plan.js';
import type { EgressSecrets, ProxiedCredential } from '../network/egress-secrets.js';
import { egressPaths } from '../network/egress-paths.js';
import { startSessionEgress, type EgressStarter } from '../network/session-egress.js';
import { claimWarmEgress, type ClaimedEgress } from '../network/warm-egress.js';
import { poolRoot, type PoolEgress } from './pool-index.js';
import { terminatesTls } from './pool-key.js';
import { engineOfPlan } from './remote-pool.js';
import { claimRemoteEgressFor } from './remote-warm-egress.js';

/**
 * The egress proxies of warm containers of a contained plan (an allowlist or learn mode). Each
 * warm container gets a proxy of its own, started with it (its OCI hook attaches it, as for a cold
 * session) and owned by the pool: it outlives the process that warmed the pool and ends with its
 * container (claimed and finished, expired, drained). Until a run claims the container it allows
 * nothing; the claim hands it the run's policy and session name before the command starts
 * (network/warm-egress.ts), so no run ever has a wider policy than its own, even for a moment.
 */

/** What the pool records of a plan's egress; undefined for a plan without one. */
export function poolEgressOf(plan: RunPlan): PoolEgress | undefined {
  const egress = plan.network.egress;
  return (
    egress && {
      mode: egress.mode,
      listen: { ...egress.listen },
      rootless: plan.identity.rootless,
      sshConfig: egress.sshConfig !== undefined,
      ...(terminatesTls(plan) ? { tls: true } : {}),
      ...(terminatesTls(plan) && plan.credentials.upstreamCa.length > 0
        ? { upstreamCa: [...plan.credentials.upstreamCa] }
        : {}),
    }
  );
}

/** A warm container's proxy while its container starts. */
export interface WarmEgress {
  /** The hook directory the container is started with (podman --hooks-dir). */
  hooksDir: string;
  /** The container started: the proxy lives on without this process. */
  started(): void;
  /** The container did not start: stops the proxy; the better explanation of `err` when the proxy failed. */
  failed(err: unknown): Promise<unknown>;
}

/** How long a warm proxy waits for its container to attach. */
const WARM_STARTUP_MS = 5 * 60_000;

/**
 * Starts the proxy of warm container `name` (a policy that allows nothing, see the module
 * comment); `secrets`: its CA, for a terminating plan (warm-tls.ts).
 */
export function startWarmEgress(
  ctx: SessionContext,
  egress: PoolEgress,
  name: string,
  start: EgressStarter = startSessionEgress,
  secrets?: EgressSecrets,
): WarmEgress {
  const paths = egressPaths(egressBaseOf(ctx), ctx.stateKey, name);
  // `allowlist` with no rule, whatever the plan's mode: learn would allow everything.
  const plan = buildEgressPlan({
    mode: 'allowlist',
    rules: [],
    presets: [],
    paths,
    systemHooksDirs: [],
    sshConfig: egress.sshConfig,
  });
  const proxy = start(
    { ...plan, listen: { ...egress.listen } },
    {
      session: name,
      stateDir: ctx.stateDir,
      stateKey: ctx.stateKey,
      audit: ctx.audit.enabled,
      ownerPid: process.pid,
      rootless: egress.rootless,
      self: selfArgv(),
      startupTimeoutMs: WARM_STARTUP_MS,
      warm: true,
      logPath: join(poolRoot(ctx.stateDir), 'egress.log'),
      ...(secrets ? { secrets } : {}),
    },
  );
  return {
    hooksDir: paths.hooksDir,
    started: () => proxy.release(),
    failed: async (err) => {
      await proxy.ready.catch(() => undefined);
      const failure = proxy.failure();
      await proxy.abort();
      return failure ?? err;
    },
  };
}

/**
 * Hands the proxy of warm container `name` to the run of `plan`, with the run's `credentials` for
 * a terminating plan (throws when it does not take it).
 */
export function claimEgressFor(
  ctx: SessionContext,
  plan: RunPlan,
  name: string,
  credentials?: readonly ProxiedCredential[],
): Promise<ClaimedEgress> {
  const egress = plan.network.egress;
  if (!egress) throw new Error('Internal error: a claim for the egress of a plan without one');
  // On a remote engine the proxy is a container there (remote-warm-egress.ts).
  if (engineOfPlan(plan) !== undefined) return claimRemoteEgressFor(ctx, plan, name, credentials);
  return claimWarmEgress(egressPaths(egressBaseOf(ctx), ctx.stateKey, name).dir, {
    session: plan.sessionName,
    stateDir: ctx.stateDir,
    stateKey: ctx.stateKey,
    audit: ctx.audit.enabled,
    policy: egress.policy,
    presets: egress.presets,
    ...(credentials ? { credentials } : {}),
  });
}
