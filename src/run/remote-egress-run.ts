import type { SessionContext } from '../context/session-context.js';
import type { RunPlan } from '../launch/run-plan.js';
import { ensureEgressImage } from '../network/egress-image.js';
import type { EgressSecrets } from '../network/egress-secrets.js';
import { endRemoteEgress, startRemoteEgress, withProxyAddress } from '../network/remote-egress.js';
import { readNetworkRecord, type NetworkRecord } from '../network/network-record.js';
import { trace } from '../common/trace.js';
import type { ColdOnEngine } from '../pool/pooled-run.js';
import { VERSION } from '../version.js';
import type { RunIo, RunRequest } from './run-request.js';
import { reportSessionNetwork } from './session-network.js';

/**
 * The egress proxy of a `mino run` on a remote engine (network/remote-egress.ts): started on the
 * engine before the session, with the session's plan then pointing at its address (a session
 * that terminates TLS hands it its secrets once they are made: `give`); ended with an
 * attached session (its record kept here and reported as a local proxy's would be), or when the
 * session could not start. A detached session's proxy lives on until `mino stop` or
 * reconciliation ends it.
 */

/** A started remote proxy, as `mino run` holds it. */
interface RemoteSessionEgress {
  /** The plan to execute: no local proxy, the proxy variables at the engine's proxy. */
  plan: RunPlan;
  /** The attached session ended: its record comes back and is reported; the proxy goes. */
  finish(req: RunRequest, io: RunIo): Promise<void>;
  /** The session ended: the proxy's final record (kept here), and the proxy goes. */
  end(): Promise<NetworkRecord | undefined>;
  /** The session did not start: the proxy goes. */
  abort(): Promise<void>;
}

/** A proxy being started ahead (alongside the project's shipping). */
export interface PendingRemoteEgress {
  /** The started proxy (rejects with its start-up error). */
  ready: Promise<RemoteSessionEgress>;
  /**
   * The session's CA, credentials and upstream CAs, for a plan that terminates TLS
   * (`plan.credentials.sessionCa`): the proxy takes them through `podman exec` and listens only then.
   */
  give(secrets: EgressSecrets | undefined): void;
  /** The run stopped before the session: the proxy goes once started. */
  cancel(): Promise<void>;
}

/** Starts the proxy of `plan` when it needs one on a remote engine (else undefined), ahead. */
export function startRemoteEgressAhead(ctx: SessionContext, plan: RunPlan, io: RunIo): PendingRemoteEgress | undefined {
  const egress = plan.network.egress;
  if (ctx.engine === undefined || !egress) return undefined;
  let give: (secrets: EgressSecrets | undefined) => void = () => undefined;
  const secrets = plan.credentials.sessionCa
    ? new Promise<EgressSecrets>((resolve, reject) => {
        give = (given) => (given ? resolve(given) : reject(new Error('the session has no CA')));
      })
    : undefined;
  secrets?.catch(() => undefined);
  const ready = startRemoteSessionEgress(
    { ...ctx, engine: ctx.engine },
    { ...plan, network: { ...plan.network, egress } },
    io,
    secrets,
  );
  ready.catch(() => undefined);
  return {
    ready,
    give: (given) => give(given),
    cancel: async () => {
      give(undefined);
      await (await ready.catch(() => undefined))?.abort();
    },
  };
}

/**
 * A contained run on a remote engine that a warm container there likely serves (its own warm
 * proxy takes the run's policy: pool/remote-warm-egress.ts): its proxy is started only if the run
 * starts cold after all (pool/pooled-run.ts PoolUse.coldOnEngine), with `secrets()` then (a
 * session CA deferred for a warm container is made only then).
 */
export function remoteEgressWhenCold(
  ctx: SessionContext,
  plan: RunPlan,
  io: RunIo,
  secrets: () => Promise<EgressSecrets | undefined>,
): () => Promise<ColdOnEngine> {
  return async () => {
    const pending = startRemoteEgressAhead(ctx, plan, io);
    if (!pending) throw new Error('Internal error: a cold start on an engine without a contained plan');
    // A session CA deferred for a warm container: made now (with its bundle's secret there).
    pending.give(
      await secrets().catch(async (err: unknown) => {
        await pending.cancel();
        throw err;
      }),
    );
    return pending.ready;
  };
}

/** Starts the proxy of `plan` (a plan for `ctx.engine` with an egress policy). */
async function startRemoteSessionEgress(
  ctx: SessionContext & { engine: string },
  plan: RunPlan & { network: { egress: NonNullable<RunPlan['network']['egress']> } },
  io: RunIo,
  secrets: Promise<EgressSecrets> | undefined,
): Promise<RemoteSessionEgress> {
  const image = await ensureEgressImage(ctx.runtime, VERSION, io.say);
  const address = await startRemoteEgress(
    ctx.runtime,
    { session: plan.sessionName, stateKey: ctx.stateKey, engine: ctx.engine, egress: plan.network.egress, image },
    undefined,
    secrets,
  );
  trace('remote egress proxy ready', address);
  const end = () => endRemoteEgress(ctx.runtime, ctx.stateDir, ctx.stateKey, plan.sessionName, ctx.audit);
  return {
    plan: { ...plan, network: { mode: plan.network.mode }, spec: withProxyAddress(plan.spec, address) },
    async finish(req, io) {
      // A `mino stop` from elsewhere may have ended the proxy first: it kept the record here.
      reportSessionNetwork(plan, req, (await end()) ?? readNetworkRecord(ctx.stateDir, plan.sessionName), io);
    },
    end,
    async abort() {
      await end().catch(() => undefined);
    },
  };
}
