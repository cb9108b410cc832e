import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { l7Enforcer, unterminatedGuard } from '../l7-gate.js';
import { newNetworkRecord, type NetworkRecord } from '../network-record.js';
import { policyOf } from '../policy.js';
import { parseRemoteProxyLaunch, REMOTE_PROXY_READY, REMOTE_PROXY_RECORD } from '../remote-proxy-protocol.js';
import { DestinationLog } from './destination-log.js';
import { createDialer } from './dialer.js';
import { EgressServer } from './egress-server.js';

/**
 * The egress proxy of one session on a remote engine (`mino _egress-proxy-remote`, the command of
 * the session's proxy container there; see network/remote-egress.ts). The same EgressServer as
 * the local proxy, with these differences:
 * - it listens on its own address in the session's internal network (the launch names the
 *   subnet; the session's container is on that network only), never on the engine's network;
 * - `host.containers.internal:PORT` rules reach the engine's host (its address in /etc/hosts);
 * - it keeps nothing on disk: its record goes to stdout as one `record JSON` line whenever it
 *   changes (mino reads the last one through the engine's logs), the final one on SIGTERM;
 * - no secrets: no TLS termination and no credentials (mino refuses L7 rules on a remote engine,
 *   and credentials go in as on a session without a proxy).
 */

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

/** Runs the proxy from the launch in `MINO_EGRESS_LAUNCH`; resolves when it stopped. */
export async function runRemoteEgressProxy(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const launch = parseRemoteProxyLaunch(env.MINO_EGRESS_LAUNCH ?? '');
  const address = addressInSubnet(launch.subnet);
  if (address === undefined) throw new Error(`no address of this container is in ${launch.subnet}`);
  let hostServices: string[] = [];
  try {
    hostServices = (await lookup('host.containers.internal', { all: true })).map((a) => a.address);
  } catch {
    // no host services on this engine
  }
  let last = '';
  const log = new DestinationLog(
    newNetworkRecord(launch.session, launch.policy.mode, launch.policy, launch.presets),
    (record: NetworkRecord) => {
      const line = JSON.stringify(record);
      if (line !== last || record.ended_at !== null) emit(REMOTE_PROXY_RECORD, line);
      last = line;
    },
    () => undefined,
  );
  const l7 = l7Enforcer(() => proxy.policy, { request: (...args) => log.request(...args) });
  const proxy = new EgressServer({
    session: launch.session,
    policy: policyOf(launch.policy),
    dialer: createDialer({ highWaterMark: HIGH_WATER_MARK, hostServiceAddresses: hostServices }),
    log,
    gate: l7.gate,
    handlers: [unterminatedGuard(l7, (dest, detail) => log.denied(dest, 'request', detail, 'connect'))],
  });
  const server: Server = createServer({ allowHalfOpen: true, highWaterMark: HIGH_WATER_MARK });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: launch.port }, () => resolve());
  });
  proxy.attach(server);
  log.flush();
  emit(REMOTE_PROXY_READY, `${address}:${launch.port}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close();
      proxy.close();
      log.flush(true);
      resolve();
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, stop);
  });
}
