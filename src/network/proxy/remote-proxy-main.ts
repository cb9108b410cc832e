import { lookup } from 'node:dns/promises';
import { unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { serveControl } from '../control.js';
import { credentialsOf, egressSecretsOf, type EgressSecrets, type ProxiedCredential } from '../egress-secrets.js';
import { l7Enforcer } from '../l7-gate.js';
import { parseAnyRules } from '../l7-rule.js';
import { newNetworkRecord, type NetworkRecord } from '../network-record.js';
import { policyOf, policyText, withRules } from '../policy.js';
import {
  parseRemoteProxyLaunch,
  REMOTE_CONTROL_SOCKET,
  REMOTE_PROXY_DENIED,
  REMOTE_PROXY_NETWORK,
  REMOTE_PROXY_READY,
  REMOTE_PROXY_RECORD,
  type RemoteControlRequest,
  type RemoteControlResponse,
  type RemoteProxyLaunch,
} from '../remote-proxy-protocol.js';
import { DestinationLog } from './destination-log.js';
import { createDialer } from './dialer.js';
import { EgressServer, type EgressServerOptions } from './egress-server.js';
import { tlsServerOptions, tlsStages } from './tls-setup.js';

/**
 * The egress proxy of one session on a remote engine (`mino _egress-proxy-remote`, the command of
 * the session's proxy container there; see network/remote-egress.ts). The same EgressServer as
 * the local proxy, with these differences:
 * - it listens on its own address in the session's internal network (the launch names the
 *   subnet; the session's container is on that network only), never on the engine's network;
 * - `host.containers.internal:PORT` rules reach the engine's host (its address in /etc/hosts);
 * - it keeps nothing on disk: its record goes to stdout as one `record JSON` line whenever it
 *   changes (mino reads the last one through the engine's logs), the final one on SIGTERM;
 * - its control socket is in its own container (REMOTE_CONTROL_SOCKET), reached by `podman exec`
 *   of `--control` (network/remote-control.ts): live policy changes, and, when the launch says
 *   `secrets`, the session CA with its key, the credentials and the upstream CAs, once, before
 *   it listens (then it terminates TLS as the local proxy does: tls-setup.ts). Those live in
 *   this process's memory only: never in its environment, a file or an argument;
 * - a warm proxy (the launch's `warm`: a remote pool's, pool/remote-warm-egress.ts) allows nothing
 *   until a run claims its container (control `claim`: the session's name, policy and presets);
 *   it prints its network's name first, then a fresh record of the session from the claim on. A
 *   terminating pool's warm proxy gets its pool CA (and no credential) before it listens, and
 *   the claim hands it the run's credentials with the policy, in the same request.
 */

/** How long a proxy whose launch expects secrets waits for them before it gives up. */
const SECRETS_TIMEOUT_MS = 120_000;

/** The largest control request (the secrets carry the host's trust store: a few hundred KB). */
const CONTROL_MAX_BYTES = 4 << 20;

/** Buffer size of proxied sockets (bulk downloads). */
const HIGH_WATER_MARK = 256 * 1024;

/** This container's IPv4 address inside `subnet` (`10.89.3.0/24`), or undefined. */
export function addressInSubnet(
  subnet: string,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string | undefined {
  const [base, bits] = subnet.split('/');
  const toInt = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const mask = Number(bits) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(bits));
  const want = toInt(base ?? '') & mask;
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && (toInt(a.address) & mask) >>> 0 === want >>> 0) return a.address;
    }
  }
  return undefined;
}

function emit(kind: string, payload: string): void {
  process.stdout.write(`${kind} ${payload}\n`);
}

/** Where the proxy's control socket is, and what else stops it besides SIGTERM (tests). */
export interface RemoteProxyOptions {
  controlPath?: string;
  signal?: AbortSignal;
}

/** Runs the proxy from the launch in `MINO_EGRESS_LAUNCH`; resolves when it stopped. */
export async function runRemoteEgressProxy(
  env: NodeJS.ProcessEnv = process.env,
  { controlPath = REMOTE_CONTROL_SOCKET, signal }: RemoteProxyOptions = {},
): Promise<void> {
  const launch = parseRemoteProxyLaunch(env.MINO_EGRESS_LAUNCH ?? '');
  const address = addressInSubnet(launch.subnet);
  if (address === undefined) throw new Error(`no address of this container is in ${launch.subnet}`);
  let hostServices: string[] = [];
  try {
    hostServices = (await lookup('host.containers.internal', { all: true })).map((a) => a.address);
  } catch {
    // no host services on this engine
  }
  if (launch.warm) emit(REMOTE_PROXY_NETWORK, launch.warm.network);
  let last = '';
  const sessionLog = (session: string, policy: RemoteProxyLaunch['policy'], presets: string[]): DestinationLog =>
    new DestinationLog(
      newNetworkRecord(session, policy.mode, policy, presets),
      (record: NetworkRecord) => {
        const line = JSON.stringify(record);
        if (line !== last || record.ended_at !== null) emit(REMOTE_PROXY_RECORD, line);
        last = line;
      },
      // Each denial (the log caps them as the local audit does): audited by mino when the session ends.
      (denial) => emit(REMOTE_PROXY_DENIED, JSON.stringify(denial)),
    );
  let log = sessionLog(launch.session, launch.policy, launch.presets);
  let claimed = !launch.warm;
  let serverOptions: EgressServerOptions | undefined;
  let policy = policyOf(launch.policy);
  const l7 = l7Enforcer(() => proxy?.policy ?? policy, { request: (...args) => log.request(...args) });
  let proxy: EgressServer | undefined;
  // The secrets, when the launch expects them: given once through the control socket.
  let giveSecrets: ((secrets: EgressSecrets) => Promise<void>) | undefined;
  const secrets = new Promise<EgressSecrets | undefined>((resolve, reject) => {
    if (!launch.secrets) return resolve(undefined);
    const timer = setTimeout(() => reject(new Error('no secrets came from mino in time')), SECRETS_TIMEOUT_MS);
    giveSecrets = async (given) => {
      clearTimeout(timer);
      resolve(given);
      await listening;
    };
  });
  let listening!: Promise<void>;
  const handle = async (req: RemoteControlRequest): Promise<RemoteControlResponse> => {
    if (req?.op === 'secrets') {
      const give = giveSecrets;
      if (!give) return { ok: false, error: 'this egress proxy takes no secrets (any more)' };
      const given = egressSecretsOf(req.secrets);
      giveSecrets = undefined;
      await give(given);
    } else if (req?.op === 'allow' || req?.op === 'deny') {
      const rules = parseAnyRules(Array.isArray(req.rules) ? req.rules.map(String) : [], req.op);
      policy = withRules(proxy?.policy ?? policy, req.op, rules);
      if (proxy) proxy.policy = policy;
      // Printed at once (a record line with the new policy).
      log.setPolicy(policyText(policy));
    } else if (req?.op === 'claim') {
      if (claimed) return { ok: false, error: 'this egress proxy serves a session already' };
      if (typeof req.session !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(req.session))
        return { ok: false, error: 'the claim names no valid session' };
      const presets = Array.isArray(req.presets) ? req.presets.map(String) : [];
      // A terminating pool's claim: the run's credentials (its CA came before it listened).
      let credentials: ProxiedCredential[] | undefined;
      if (req.credentials !== undefined) {
        if (!launch.secrets || !tls) return { ok: false, error: 'this egress proxy was started without a CA' };
        credentials = credentialsOf(req.credentials);
      }
      policy = policyOf(req.policy);
      claimed = true;
      if (credentials && tls && serverOptions) {
        tls.addCredentials(credentials);
        serverOptions.requestGuard = tls.requestGuard;
        if (tls.bodyGuard) serverOptions.bodyGuard = tls.bodyGuard;
      }
      // The warm log's pending record goes out first: the session's is the last one printed.
      log.flush();
      log = sessionLog(req.session, policyText(policy), presets);
      if (serverOptions) {
        serverOptions.log = log;
        serverOptions.session = req.session;
      }
      if (proxy) proxy.policy = policy;
      log.flush();
    } else if (req?.op !== 'status') {
      return { ok: false, error: 'unknown control request' };
    }
    return { ok: true, policy: policyText(proxy?.policy ?? policy), record: log.snapshot() };
  };
  try {
    unlinkSync(controlPath);
  } catch {
    // none left over
  }
  const control = await serveControl<RemoteControlRequest, RemoteControlResponse>(
    controlPath,
    (req) => handle(req).catch((err: unknown) => ({ ok: false, error: (err as Error).message }) as const),
    CONTROL_MAX_BYTES,
  );
  const server: Server = createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
  const stoppers: Array<() => void> = [];
  let tls: ReturnType<typeof tlsStages> | undefined;
  listening = (async () => {
    tls = tlsStages(await secrets, l7);
    // Kept by the server as given: a claim renames the session and replaces its log here.
    serverOptions = {
      session: launch.session,
      policy,
      dialer: createDialer({ highWaterMark: HIGH_WATER_MARK, hostServiceAddresses: hostServices }),
      log,
      ...tlsServerOptions(tls, l7, () => log),
    };
    proxy = new EgressServer(serverOptions);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port: launch.port }, () => resolve());
    });
    proxy.attach(server);
    log.flush();
    emit(REMOTE_PROXY_READY, `${address}:${launch.port}`);
    proxy.warm();
    return tls;
  })().then((stages) => {
    stoppers.push(() => stages.close());
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = (): void => {
      server.close();
      control.close();
      proxy?.close();
      for (const s of stoppers) s();
      log.flush(true);
      resolve();
    };
  });
  // A warm proxy no run claimed ends with its warm container's time.
  const ttl = launch.warm?.ttlSeconds;
  const expiry =
    ttl === undefined
      ? undefined
      : setTimeout(
          () => {
            if (!claimed) stop();
          },
          Math.min(ttl * 1000 + 30_000, 2 ** 31 - 1),
        );
  void stopped.then(() => clearTimeout(expiry));
  if (signal) signal.addEventListener('abort', () => stop(), { once: true });
  else for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, stop);
  // A proxy that never got its secrets (mino here went away) or could not listen ends.
  await Promise.race([listening, stopped]).catch((err: unknown) => {
    stop();
    throw err;
  });
  await stopped;
}
