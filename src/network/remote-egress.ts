import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { MinoError } from '../common/errors.js';
import type { ContainerRuntime, ContainerSpec } from '../runtime/container-runtime.js';
import { LABEL_ENGINE, LABEL_STATE } from '../session/session-labels.js';
import type { EgressPlan } from './egress-plan.js';
import type { EgressSecrets, ProxiedCredential } from './egress-secrets.js';
import { egressProxyCommand, otherEgressProxyCommand } from './egress-image.js';
import { writeNetworkRecord, type NetworkRecord } from './network-record.js';
import type { PolicyText } from './policy.js';
import { sendRemoteControl } from './remote-control.js';
import {
  deniedLines,
  lastRecord,
  readyAddress,
  warmNetworkOf,
  type RemoteControlRequest,
  type RemoteProxyLaunch,
} from './remote-proxy-protocol.js';

/**
 * The egress policy of a session on a remote engine. The proxy runs ON THE ENGINE, in a
 * container of its own (image: network/egress-image.ts), attached to the engine's default
 * network and to a network of the session's own, created `--internal` with DNS off: on the
 * engines' CNI backend such a network has no gateway address and no route out, so the session's
 * container, on that network only (and with IPv6 off, so no link-local address reaches the
 * bridge), can reach nothing but the proxy's address there. The policy is the proxy container's
 * launch variable (nothing secret); a session that terminates TLS (credentials kept at the
 * proxy, HTTPS rules on method and path) hands the proxy its CA key, the credentials' real values
 * and the upstream CAs through `podman exec -i` on stdin (network/remote-control.ts), before the
 * proxy listens; live policy changes travel the same way. The proxy's record comes back here
 * through the engine's logs (and the audit log stays here). Both are named after the session and
 * labelled with mino's state key, and removed with the session (end of `mino run`, `mino stop`,
 * reconciliation).
 *
 * A remote pool's warm container (pool/remote-warm-egress.ts) comes with a warm proxy of the same
 * kind, named after the warm container and labelled {@link LABEL_REMOTE_EGRESS_WARM}; the claim
 * renames the proxy container to its session's name and hands it the session's policy
 * ({@link claimRemoteWarmEgress}); its network keeps the warm name, which the proxy prints, so
 * the session's end removes it too.
 */

/** Label on the proxy container and the network of a remote session (its name). */
const LABEL_REMOTE_EGRESS = 'io.mino.remote-egress';

/** Label on a warm proxy container and its network (the pool key): pool/remote-warm-egress.ts. */
const LABEL_REMOTE_EGRESS_WARM = 'io.mino.remote-egress-warm';

/** Where the proxy listens, on its address in the session's network. */
const REMOTE_PROXY_PORT = 3128;

/** Stand-in for the proxy's address in the plan's environment, until the proxy says it. */
export const REMOTE_PROXY_ADDRESS = 'mino-egress-proxy.invalid';

/** The engine's own network the proxy reaches out through. */
const ENGINE_NETWORK = 'podman';

/** The names of a remote session's proxy container and network. */
export interface RemoteEgressNames {
  container: string;
  network: string;
}

/** The names for session `session` of state `stateKey` (16 hex digits of their hash). */
export function remoteEgressNames(stateKey: string, session: string): RemoteEgressNames {
  const id = createHash('sha256').update(`${stateKey}\0${session}`).digest('hex').slice(0, 16);
  return { container: `mino-egress-${id}`, network: `mino-egress-net-${id}` };
}

/** The labels of both (a warm proxy's: with its pool key). */
function egressLabels(stateKey: string, engine: string, session: string, warmKey?: string): Record<string, string> {
  return {
    [LABEL_STATE]: stateKey,
    [LABEL_ENGINE]: engine,
    [LABEL_REMOTE_EGRESS]: session,
    ...(warmKey === undefined ? {} : { [LABEL_REMOTE_EGRESS_WARM]: warmKey }),
  };
}

/**
 * The session container's part: the session's network only, IPv6 off, no hooks, the proxy
 * variables pointing at {@link REMOTE_PROXY_ADDRESS} (replaced by {@link withProxyAddress}).
 */
export function remoteSessionNetwork(
  egress: EgressPlan,
  names: RemoteEgressNames,
): Pick<ContainerSpec, 'network' | 'sysctls'> & { env: Record<string, string> } {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(egress.env)) {
    env[key] = /^(no_proxy|NO_PROXY)$/.test(key) ? value : `http://${REMOTE_PROXY_ADDRESS}:${REMOTE_PROXY_PORT}`;
  }
  return {
    network: names.network,
    sysctls: ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
    env,
  };
}

/** `spec` with the proxy's real address (`10.89.3.2:3128`) in its proxy variables. */
export function withProxyAddress(spec: ContainerSpec, address: string): ContainerSpec {
  const stand = `http://${REMOTE_PROXY_ADDRESS}:${REMOTE_PROXY_PORT}`;
  const env = Object.fromEntries(
    Object.entries(spec.env ?? {}).map(([k, v]) => [k, v === stand ? `http://${address}` : v]),
  );
  return { ...spec, env };
}

/** What the proxy container needs besides the names. */
export interface RemoteProxyInput {
  session: string;
  stateKey: string;
  engine: string;
  egress: Pick<EgressPlan, 'policy' | 'presets'>;
  /** A warm proxy of pool `key` (pool/remote-warm-egress.ts): allows nothing until claimed, ends unclaimed after `ttlSeconds`. */
  warm?: { key: string; ttlSeconds: number };
  /** The proxy image and the command that runs the proxy in it (egress-image.ts). */
  image: { tag: string; command: string[] };
  subnet: string;
  /** The proxy waits for its secrets (the session terminates TLS) before it listens. */
  secrets?: boolean;
}

/** The proxy container's spec (pure). */
export function remoteProxySpec(input: RemoteProxyInput, names: RemoteEgressNames): ContainerSpec {
  const launch: RemoteProxyLaunch = {
    session: input.session,
    policy: input.egress.policy,
    presets: input.egress.presets,
    subnet: input.subnet,
    port: REMOTE_PROXY_PORT,
    ...(input.secrets ? { secrets: true } : {}),
    ...(input.warm === undefined ? {} : { warm: { network: names.network, ttlSeconds: input.warm.ttlSeconds } }),
  };
  return {
    image: input.image.tag,
    command: input.image.command,
    name: names.container,
    labels: egressLabels(input.stateKey, input.engine, input.session, input.warm?.key),
    network: names.network,
    extraNetworks: [ENGINE_NETWORK],
    capDrop: ['ALL'],
    securityOpt: ['no-new-privileges'],
    readOnly: true,
    user: '65534:65534',
    pullNever: true,
    env: { MINO_EGRESS_LAUNCH: JSON.stringify(launch), HOME: '/' },
  };
}

/**
 * Creates the session's network and starts its proxy; returns the proxy's address. With
 * `secrets` (a session that terminates TLS) the proxy gets them, once they are made, through
 * `podman exec` on stdin, and listens only then.
 */
export async function startRemoteEgress(
  runtime: ContainerRuntime,
  input: Omit<RemoteProxyInput, 'subnet' | 'secrets'>,
  timeoutMs = 30_000,
  secrets?: Promise<EgressSecrets>,
): Promise<string> {
  const names = remoteEgressNames(input.stateKey, input.session);
  const labels = egressLabels(input.stateKey, input.engine, input.session, input.warm?.key);
  try {
    // A network left by a session of this name whose mino was killed goes first (then again).
    const { subnet } = await runtime.networkCreateInternal(names.network, labels).catch(async () => {
      await removeRemoteEgress(runtime, input.stateKey, input.session);
      return runtime.networkCreateInternal(names.network, labels);
    });
    const id = await runtime.run(remoteProxySpec({ ...input, subnet, secrets: secrets !== undefined }, names));
    if (secrets !== undefined)
      await sendRemoteControl(runtime, id, input.image.command, { op: 'secrets', secrets: await secrets }).catch(
        (err: unknown) => {
          throw new MinoError(
            `The egress proxy on engine ${input.engine} did not take the session's CA: ${(err as Error).message}`,
          );
        },
      );
    const until = Date.now() + timeoutMs;
    for (let round = 0; ; round++) {
      const out = await runtime.logs(id, 0);
      const address = readyAddress(out.stdout);
      if (address) return address;
      // Node starts in about 0.1 s: its output is asked for often, whether it still runs now and then.
      if (
        round % 5 === 4 &&
        (await runtime.listContainers({ [LABEL_REMOTE_EGRESS]: input.session, [LABEL_STATE]: input.stateKey })).every(
          (c) => c.state !== 'running',
        )
      )
        throw new MinoError(
          `The egress proxy on engine ${input.engine} stopped: ${(out.stderr || out.stdout).trim().split('\n').pop() ?? ''}`,
        );
      if (Date.now() > until)
        throw new MinoError(`The egress proxy on engine ${input.engine} did not start within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await removeRemoteEgress(runtime, input.stateKey, input.session).catch(() => undefined);
    throw err;
  }
}

/**
 * Changes the policy of a running remote session's proxy (`mino network allow|deny`): one
 * `podman exec` into its container; in force when this returns. Returns the policy now in force.
 */
export async function changeRemotePolicy(
  runtime: ContainerRuntime,
  stateKey: string,
  session: string,
  op: 'allow' | 'deny',
  rules: string[],
): Promise<PolicyText | undefined> {
  const { container } = remoteEgressNames(stateKey, session);
  const answer = await controlProxy(runtime, container, { op, rules });
  // Its output lost on the way (podman's remote exec): the proxy printed its record meanwhile.
  return answer?.policy ?? (await remoteEgressRecord(runtime, stateKey, session))?.policy;
}

/** Sends `request` to the proxy container `container` (see sendRemoteControl). */
function controlProxy(runtime: ContainerRuntime, container: string, request: RemoteControlRequest) {
  // A proxy started by the other kind of mino (single executable, or the bundle) has the other command.
  return sendRemoteControl(runtime, container, egressProxyCommand(), request).catch((err: unknown) =>
    /\(exit 12[67]\)/.test((err as Error).message)
      ? sendRemoteControl(runtime, container, otherEgressProxyCommand(), request)
      : Promise.reject(err),
  );
}

/**
 * Makes the warm proxy of warm container `warmName` the proxy of `session` (a remote pool's
 * claim): its container takes the session's proxy name (`podman rename`: of two claims exactly
 * one wins; a proxy an earlier session of that name left goes first), then it takes the
 * session's policy through one `podman exec`. Throws when it does not, with the proxy and its
 * network (and the warm container on it) removed: that container must never be handed out.
 */
export async function claimRemoteWarmEgress(
  runtime: ContainerRuntime,
  stateKey: string,
  warmName: string,
  claim: {
    session: string;
    policy: PolicyText;
    presets: readonly string[];
    /** A terminating pool's: the run's credentials (secret: stdin only). */
    credentials?: readonly ProxiedCredential[];
  },
): Promise<void> {
  const warm = remoteEgressNames(stateKey, warmName);
  const to = remoteEgressNames(stateKey, claim.session).container;
  let renamed = await runtime.renameContainer(warm.container, to).catch(async () => {
    // The name is taken: a proxy left by an earlier session of this name (a claimed warm one: its network too).
    const output = await proxyOutput(runtime, to);
    const left = output === undefined ? undefined : warmNetworkOf(output);
    if (left !== undefined) await runtime.networkRemove(left);
    await removeRemoteEgress(runtime, stateKey, claim.session);
    return runtime.renameContainer(warm.container, to);
  });
  try {
    if (!renamed) throw new Error(`the warm egress proxy ${warm.container} is gone`);
    await controlProxy(runtime, to, {
      op: 'claim',
      session: claim.session,
      policy: claim.policy,
      presets: [...claim.presets],
      ...(claim.credentials ? { credentials: [...claim.credentials] } : {}),
    });
  } catch (err) {
    await runtime.networkRemove(warm.network).catch(() => undefined);
    if (renamed) await runtime.remove(to).catch(() => undefined);
    renamed = false;
    throw err;
  }
}

/**
 * Removes the warm proxies of state `stateKey` on this engine that no run claimed (their
 * containers still have their warm names) and that ended (their time was up), or `all` of them,
 * with their networks (and the warm containers on them). Returns how many. A running one may be
 * in the middle of a claim: only `mino pool drain` (all) removes it.
 */
export async function sweepWarmRemoteEgress(runtime: ContainerRuntime, stateKey: string, all = false): Promise<number> {
  const proxies = await runtime.listContainers({ [LABEL_STATE]: stateKey, [LABEL_REMOTE_EGRESS_WARM]: '' });
  const unclaimed = proxies.filter((c) => {
    const warmName = c.labels[LABEL_REMOTE_EGRESS];
    return (
      warmName !== undefined &&
      (all || c.state !== 'running') &&
      c.name === remoteEgressNames(stateKey, warmName).container
    );
  });
  for (const c of unclaimed) await removeRemoteEgress(runtime, stateKey, c.labels[LABEL_REMOTE_EGRESS]!);
  return unclaimed.length;
}

/** The proxy's record so far (a running session's), undefined when there is none. */
export async function remoteEgressRecord(
  runtime: ContainerRuntime,
  stateKey: string,
  session: string,
): Promise<NetworkRecord | undefined> {
  const output = await proxyOutput(runtime, remoteEgressNames(stateKey, session).container);
  return output === undefined ? undefined : lastRecord(output);
}

/** The proxy container's stdout so far; undefined when it is gone. */
async function proxyOutput(runtime: ContainerRuntime, container: string): Promise<string | undefined> {
  try {
    return (await runtime.logs(container, 0)).stdout;
  } catch {
    return undefined;
  }
}

/**
 * Ends a remote session's proxy: its final record is kept here (the session's network record),
 * its denials go to `audit` (one event each, as the local proxy writes them), then the container
 * and the network go. Undefined when there was no proxy (or it left no record). Never throws for
 * a missing proxy.
 */
export async function endRemoteEgress(
  runtime: ContainerRuntime,
  stateDir: string,
  stateKey: string,
  session: string,
  audit?: AuditLog,
): Promise<NetworkRecord | undefined> {
  const { container } = remoteEgressNames(stateKey, session);
  let output: string | undefined;
  let record: NetworkRecord | undefined;
  if (await runtime.kill(container, 'TERM')) {
    // On SIGTERM the proxy prints its final record (ended) at once: read until it is there.
    const until = Date.now() + 3000;
    do {
      output = await proxyOutput(runtime, container);
      record = output === undefined ? undefined : lastRecord(output);
      if (record?.ended_at || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (record !== undefined);
  }
  output ??= await proxyOutput(runtime, container);
  record ??= output === undefined ? undefined : lastRecord(output);
  if (record) {
    writeNetworkRecord(stateDir, record);
    const denials = deniedLines(output ?? '');
    for (const d of denials) audit?.record('network.denied', { name: session, ...d });
    // A proxy that printed no denial lines: one event per denied destination, from its record.
    if (denials.length === 0) auditRecordDenials(record, session, audit);
  }
  // A claimed warm proxy's network has the warm container's name: its output says which.
  const warmNetwork = output === undefined ? undefined : warmNetworkOf(output);
  if (warmNetwork !== undefined) await runtime.networkRemove(warmNetwork);
  await removeRemoteEgress(runtime, stateKey, session);
  return record;
}

/** The denials of `record`, one event per destination (its last reason, and how many). */
function auditRecordDenials(record: NetworkRecord, session: string, audit: AuditLog | undefined): void {
  for (const d of record.destinations) {
    if (d.denied === 0) continue;
    const [host, port] = splitDestination(d.destination);
    audit?.record('network.denied', {
      name: session,
      destination: d.destination,
      host,
      port,
      reason: d.reason,
      detail: d.detail,
      protocol: 'remote',
      count: d.denied,
    });
  }
}

function splitDestination(destination: string): [string, number] {
  const i = destination.lastIndexOf(':');
  return [destination.slice(0, i).replace(/^\[|\]$/g, ''), Number(destination.slice(i + 1))];
}

/** Removes a remote session's proxy container and network (missing is fine). */
async function removeRemoteEgress(runtime: ContainerRuntime, stateKey: string, session: string): Promise<void> {
  const names = remoteEgressNames(stateKey, session);
  // `network rm -f` removes the containers on it, the proxy among them.
  await runtime.networkRemove(names.network);
  await runtime.remove(names.container);
}
