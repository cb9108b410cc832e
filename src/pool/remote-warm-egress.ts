import type { SessionContext } from '../context/session-context.js';
import type { RunPlan } from '../launch/run-plan.js';
import { ensureEgressImage } from '../network/egress-image.js';
import {
  claimRemoteWarmEgress,
  endRemoteEgress,
  remoteEgressNames,
  startRemoteEgress,
  sweepWarmRemoteEgress,
  withProxyAddress,
} from '../network/remote-egress.js';
import type { ClaimedEgress } from '../network/warm-egress.js';
import type { EgressSecrets, ProxiedCredential } from '../network/egress-secrets.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { VERSION } from '../version.js';
import type { PoolRecord } from './pool-index.js';
import { REMOTE_EGRESS_NET_PLACEHOLDER } from './pool-key.js';
import { readFileSync } from 'node:fs';
import { sessionCaBundlePath } from '../credentials/host-ca-bundle.js';
import { caBundleDigestOf, ensureCaBundleSecret, repairCaBundleSecret } from '../engine/engine-ca-secrets.js';

/**
 * The egress proxies of a remote pool's warm containers, for a contained plan (the remote
 * default). As a cold remote contained run (network/remote-egress.ts), each warm container comes
 * with a proxy container of its own and an internal network of its own on the engine, named after
 * the warm container; the proxy starts with a policy that allows nothing (whatever the plan's
 * mode: learn would allow everything) and no credential. The claim renames the proxy to its
 * session's name and hands it the run's policy through `podman exec` on stdin before the command
 * runs; from then on `mino network`, `mino logs --network`, `mino stop`, the run's end and
 * reconciliation find and end it as a cold session's proxy, its warm network with it. An
 * unclaimed one ends itself when its warm container's time is up (and is removed by the next
 * refill), or goes with `mino pool drain`.
 * A plan whose proxy terminates TLS: its warm containers trust the pool's CA and their proxies
 * hold its key from their start; the claim hands over the run's credentials (remote-warm-tls.ts).
 */

/** The policy of a warm proxy until its claim: nothing allowed. */
const NOTHING = { policy: { mode: 'allowlist' as const, allow: [], deny: [] }, presets: [] };

/** Whether a pool's warm containers each need a proxy on their engine. */
export function needsRemoteEgress(record: Pick<PoolRecord, 'engine' | 'egress'>): boolean {
  return record.engine !== undefined && record.egress !== undefined;
}

/** Makes sure the proxy image is on the engine (built there once per mino version). */
export async function prepareRemoteEgress(ctx: SessionContext): Promise<{ tag: string; command: string[] }> {
  return ensureEgressImage(ctx.runtime, VERSION);
}

/**
 * Starts the proxy of warm container `name` of pool `record` on its engine (with its network;
 * `secrets`: a terminating pool's CA); returns the warm container's spec `spec` placed on that
 * network, its proxy variables at it.
 */
export async function startRemoteWarmEgress(
  ctx: SessionContext,
  record: PoolRecord & { engine: string },
  name: string,
  image: { tag: string; command: string[] },
  spec: ContainerSpec,
  ttlSeconds: number,
  secrets?: EgressSecrets,
): Promise<ContainerSpec> {
  const address = await startRemoteEgress(
    ctx.runtime,
    {
      session: name,
      stateKey: ctx.stateKey,
      engine: record.engine,
      egress: NOTHING,
      image,
      warm: { key: record.key, ttlSeconds },
    },
    undefined,
    // A terminating pool's proxy: the pool CA (no credential) before it listens (remote-warm-tls.ts).
    secrets && Promise.resolve(secrets),
  );
  return placeRemoteEgress(spec, remoteEgressNames(ctx.stateKey, name).network, address);
}

/** A pool record's spec with its warm proxy's network and address in place of the placeholders. */
function placeRemoteEgress(spec: ContainerSpec, network: string, address: string): ContainerSpec {
  const placed = spec.network === REMOTE_EGRESS_NET_PLACEHOLDER ? { ...spec, network } : spec;
  return withProxyAddress(placed, address);
}

/** A remote pool's CA bundle secret (the one its spec mounts): made when missing, or again after a failed start. */
export interface PoolCaBundle {
  ensure(): Promise<void>;
  /** True when it was missing and is made again (the start may be tried once more). */
  repair(): Promise<boolean>;
}

/** The CA bundle secret of remote pool `record` (engine/engine-ca-secrets.ts), undefined when it mounts none. */
export function poolCaBundle(ctx: SessionContext, record: PoolRecord): PoolCaBundle | undefined {
  const name = record.spec.secretFiles?.find(
    (f) => f.public === true && caBundleDigestOf(ctx.stateKey, f.secret) !== undefined,
  )?.secret;
  if (name === undefined || record.engine === undefined) return undefined;
  const target = { runtime: ctx.runtime, engine: record.engine, stateDir: ctx.stateDir, stateKey: ctx.stateKey };
  // The bundle the run's planning wrote (its digest is the secret's name).
  const text = (): string => readFileSync(sessionCaBundlePath(ctx.stateDir), 'utf8');
  return {
    ensure: () => ensureCaBundleSecret(target, name, text),
    repair: () => repairCaBundleSecret(target, name, text).catch(() => false),
  };
}

/**
 * Removes the warm proxies of this state on the engine that no run claimed: those whose time is
 * up (they end themselves), or all of them (`mino pool drain`). Returns how many.
 */
export function sweepRemoteWarmEgress(ctx: SessionContext, all = false): Promise<number> {
  return sweepWarmRemoteEgress(ctx.runtime, ctx.stateKey, all);
}

/** Removes the proxy of warm container `name` and its network (its container did not start). */
export function removeRemoteWarmEgress(ctx: SessionContext, name: string): Promise<void> {
  return ctx.runtime
    .networkRemove(remoteEgressNames(ctx.stateKey, name).network)
    .then(() => ctx.runtime.remove(remoteEgressNames(ctx.stateKey, name).container));
}

/**
 * Hands the proxy of warm container `name` to the run of `plan`, with the run's `credentials` for
 * a terminating plan, in the same request (throws when it does not take it).
 */
export async function claimRemoteEgressFor(
  ctx: SessionContext,
  plan: RunPlan,
  name: string,
  credentials?: readonly ProxiedCredential[],
): Promise<ClaimedEgress> {
  const egress = plan.network.egress;
  if (!egress) throw new Error('Internal error: a claim for the egress of a plan without one');
  await claimRemoteWarmEgress(ctx.runtime, ctx.stateKey, name, {
    session: plan.sessionName,
    policy: egress.policy,
    presets: egress.presets,
    ...(credentials ? { credentials } : {}),
  });
  return {
    finish: () => endRemoteEgress(ctx.runtime, ctx.stateDir, ctx.stateKey, plan.sessionName, ctx.audit),
  };
}
