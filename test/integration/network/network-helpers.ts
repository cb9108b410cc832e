import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostDebianMirror } from '../../../src/image/host-apt-sources.js';
import { localHost } from '../../../src/host/host.js';

/**
 * The local "internet" of the egress tests, on this machine: two HTTP servers (one a session is
 * allowed to reach, one it is not), a raw TCP echo server (allowed) and a second one (not), a TLS
 * server whose certificate a throwaway CA (made with openssl now) signed for
 * host.containers.internal, and a UDP echo server. All listen on every address, so a sandbox that
 * found any route out (the host's own address, the podman bridge gateway) would reach them: the
 * bypass probes then succeed, as the bridge-mode control runs show they can.
 */

/** The servers and what they saw. */
export interface HostServers {
  /** A non-loopback IPv4 address of this host (not a podman bridge). */
  hostIp: string;
  /** Addresses of the podman bridges of this host (gateways of bridge containers). */
  gatewayIps: string[];
  allowedHttp: number;
  deniedHttp: number;
  echo: number;
  deniedEcho: number;
  tls: number;
  udp: number;
  /** An HTTP server a session reaches only through HTTPS rules on method and path (hits: `l7 METHOD /path`). */
  l7Http: number;
  /** Directory holding ca.pem (world-readable, to mount into containers). */
  caDir: string;
  /** Requests the HTTP servers got, as `port path`. */
  hits: string[];
  /** Text the echo servers and the UDP server received. */
  received: string[];
  close(): Promise<void>;
}

function listenTcp(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '0.0.0.0', () => resolve((server.address() as AddressInfo).port));
  });
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A throwaway CA and a server certificate for host.containers.internal, made with openssl. */
function makeCa(): { dir: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mino-test-ca-'));
  chmodSync(dir, 0o755);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=mino test CA',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=host.containers.internal',
    ],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:host.containers.internal\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    ],
    dir,
  );
  chmodSync(join(dir, 'ca.pem'), 0o644);
  return {
    dir,
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

/** The addresses of this host: a plain interface address, and podman bridge addresses. */
function hostAddresses(): { hostIp: string; gatewayIps: string[] } {
  let hostIp: string | undefined;
  const gatewayIps: string[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      if (/^(cni-podman|podman|docker|virbr)/.test(name)) gatewayIps.push(info.address);
      else hostIp ??= info.address;
    }
  }
  if (!hostIp) throw new Error('this host has no non-loopback IPv4 address to probe');
  return { hostIp, gatewayIps };
}

/** Starts every server. */
export async function startHostServers(): Promise<HostServers> {
  const hits: string[] = [];
  const received: string[] = [];
  const http = (label: string): HttpServer =>
    createHttpServer((req, res) => {
      hits.push(`${label} ${req.url}`);
      res.end(`${label}-ok ${req.url}\n`);
    });
  const echo = (label: string): Server =>
    createServer((s) => {
      s.on('data', (d: Buffer) => {
        received.push(`${label}:${d.toString('latin1')}`);
        s.write(d);
      });
      s.on('error', () => undefined);
    });
  const ca = makeCa();
  // BusyBox's TLS client (the rootless probes) only speaks TLS 1.2 with older ciphers.
  const tls = createHttpsServer(
    { key: ca.key, cert: ca.cert, maxVersion: 'TLSv1.2', ciphers: 'ALL:@SECLEVEL=0' },
    (req, res) => {
      hits.push(`tls ${req.method} ${req.url}`);
      req.resume();
      res.end(`tls-ok ${req.url}\n`);
    },
  );
  const l7 = createHttpServer((req, res) => {
    hits.push(`l7 ${req.method} ${req.url}`);
    req.resume();
    res.end(`l7-ok ${req.method} ${req.url}\n`);
  });
  const servers: Array<Server | HttpServer> = [
    http('allowed'),
    http('denied'),
    echo('echo'),
    echo('denied-echo'),
    tls,
    l7,
  ];
  const [allowedHttp, deniedHttp, echoPort, deniedEcho, tlsPort, l7Port] = (await Promise.all(
    servers.map(listenTcp),
  )) as [number, number, number, number, number, number];
  // Bound to the host's own address, not 0.0.0.0: the answer must come from the address the
  // client sent to (a connected UDP socket drops datagrams from any other).
  const addresses = hostAddresses();
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    received.push(`udp:${msg.toString('latin1')}`);
    udp.send(msg, rinfo.port, rinfo.address);
  });
  const udpPort = await new Promise<number>((resolve) =>
    udp.bind(0, addresses.hostIp, () => resolve(udp.address().port)),
  );
  return {
    ...addresses,
    allowedHttp,
    deniedHttp,
    echo: echoPort,
    deniedEcho,
    tls: tlsPort,
    udp: udpPort,
    l7Http: l7Port,
    caDir: ca.dir,
    hits,
    received,
    close: async () => {
      for (const s of servers) s.close();
      udp.close();
      rmSync(ca.dir, { recursive: true, force: true });
    },
  };
}

/** A name this host's resolver answers for (its Debian mirror), read from its apt sources. */
export async function resolvableName(): Promise<string | undefined> {
  const mirror = await hostDebianMirror(localHost);
  return mirror ? new URL(mirror).hostname : undefined;
}

/** The first nameserver of this host's resolv.conf. */
export function hostResolver(): string | undefined {
  try {
    return /^nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The key of a state directory (label io.mino.state), as mino computes it. */
export function stateKeyOf(stateDir: string): string {
  return createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
}

/** PIDs of running egress proxies whose directory is the session's (by the directory's name). */
export function egressProxyPids(stateKey: string, session: string): number[] {
  const dirName = createHash('sha256').update(`${stateKey}\0${session}`).digest('hex').slice(0, 16);
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps
    .split('\n')
    .filter((l) => l.includes('_egress-proxy') && l.includes(dirName))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Parses `key=value` lines of a probe script's output. */
export function probeResults(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9-]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
