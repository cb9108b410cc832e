import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newNetworkRecord, type NetworkRecord } from '../../../../src/network/network-record.js';
import { l7Enforcer, unterminatedGuard } from '../../../../src/network/l7-gate.js';
import { parseAnyRules } from '../../../../src/network/l7-rule.js';
import { hasL7Rules, policyOf, policyText, withRules, type EgressPolicy } from '../../../../src/network/policy.js';
import { DestinationLog } from '../../../../src/network/proxy/destination-log.js';
import { createDialer } from '../../../../src/network/proxy/dialer.js';
import { EgressServer } from '../../../../src/network/proxy/egress-server.js';
import { RewriterRegistry, type TunnelHandler } from '../../../../src/network/proxy/pipeline.js';
import { parseRule, parseRules } from '../../../../src/network/rule.js';

/**
 * The egress proxy in-process, on real sockets: an upstream HTTP server and a TCP echo server on
 * this machine's loopback play the internet; the dialer maps the test names' (public-looking)
 * addresses to them, so the address guard treats them as remote hosts.
 */

let http: HttpServer;
let echo: Server;
let httpPort = 0;
let echoPort = 0;
let upstreamConnections = 0;
const seen: Array<{ url: string; headers: IncomingMessage['headers'] }> = [];

const ADDRESSES: Record<string, string> = {
  'web.test': '203.0.113.10',
  'echo.test': '203.0.113.11',
  'other.test': '203.0.113.12',
  'rebind.test': '127.0.0.1',
  'gateway.test': '198.51.100.1',
};

beforeAll(async () => {
  http = createHttpServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => res.end(`got ${body}`));
      return;
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part1;');
      setTimeout(() => res.end('part2'), 50);
      return;
    }
    res.end(`hello ${req.url} auth=${req.headers.authorization ?? '-'}`);
  });
  http.on('connection', () => upstreamConnections++);
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(() => {
  http.close();
  echo.close();
});

interface Harness {
  proxy: EgressServer;
  port: number;
  snapshots: NetworkRecord[];
  denials: Array<{ destination: string; reason: string }>;
  log: DestinationLog;
  close(): void;
}

let harness: Harness | undefined;
afterEach(() => harness?.close());

async function start(
  allow: string[],
  options: {
    deny?: string[];
    mode?: EgressPolicy['mode'];
    handlers?: TunnelHandler[];
    rewriters?: RewriterRegistry;
    /** Judge plain-HTTP requests by the L7 rules of the live policy. */
    l7?: boolean;
  } = {},
): Promise<Harness> {
  const policy: EgressPolicy = policyOf({ mode: options.mode ?? 'allowlist', allow, deny: options.deny ?? [] });
  const snapshots: NetworkRecord[] = [];
  const denials: Array<{ destination: string; reason: string }> = [];
  const log = new DestinationLog(
    newNetworkRecord('s1', policy.mode, policyText(policy), []),
    (r) => snapshots.push(r),
    (d) => denials.push(d),
    10,
  );
  const dialer = createDialer({
    resolve: async (host) => {
      const a = ADDRESSES[host];
      if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return [a];
    },
    hostAddresses: () => new Set(['198.51.100.1']),
    // 203.0.113.10 serves HTTP, .11 echoes; the host-service address goes to the real loopback.
    connect: (address, port) =>
      new Promise((resolve, reject) => {
        const target =
          address === '203.0.113.10'
            ? httpPort
            : address === '203.0.113.11'
              ? echoPort
              : address === '127.0.0.1'
                ? port
                : -1;
        if (target < 0) {
          reject(Object.assign(new Error('unreachable'), { code: 'EHOSTUNREACH' }));
          return;
        }
        const s = connect({ host: '127.0.0.1', port: target, allowHalfOpen: true }, () => resolve(s));
        s.once('error', reject);
      }),
  });
  const proxy: EgressServer = new EgressServer({
    session: 's1',
    policy,
    dialer,
    log,
    handlers: options.handlers,
    rewriters: options.rewriters,
    ...(options.l7 ? { gate: l7Enforcer(() => proxy.policy, log).gate } : {}),
  });
  const server = createServer({ allowHalfOpen: true });
  proxy.attach(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  harness = {
    proxy,
    port: (server.address() as AddressInfo).port,
    snapshots,
    denials,
    log,
    close: () => {
      proxy.close();
      server.close();
    },
  };
  return harness;
}

/** Sends raw bytes, collects everything until the server closes or `until` matches. */
function exchange(port: number, data: Buffer | string, until?: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout; got ${JSON.stringify(out)}`));
    }, timeoutMs);
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (until?.test(out)) {
        clearTimeout(timer);
        s.destroy();
        resolve(out);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => undefined);
    s.write(data);
  });
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
  });
}

function readUntil(s: Socket, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(out)}`)), 5000);
    const on = (d: Buffer): void => {
      out += d.toString('latin1');
      if (re.test(out)) {
        clearTimeout(timer);
        s.removeListener('data', on);
        resolve(out);
      }
    };
    s.on('data', on);
  });
}

describe('egress proxy: plain HTTP judged by L7 rules', () => {
  it('lets an allowed request through and refuses another method or path with 403, recorded and reported', async () => {
    const h = await start(['GET web.test:80/ok/*'], { l7: true });
    const ok = await exchange(
      h.port,
      'GET http://web.test/ok/1?q=2 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n',
    );
    expect(ok).toMatch(/^HTTP\/1.1 200/);
    const before = seen.length;
    const post = await exchange(
      h.port,
      'POST http://web.test/ok/1 HTTP/1.1\r\nHost: web.test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi',
    );
    expect(post).toMatch(/^HTTP\/1.1 403/);
    expect(post).toContain('POST web.test:80/ok/1: no rule allows it');
    const other = await exchange(
      h.port,
      'GET http://web.test/secret HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n',
    );
    expect(other).toMatch(/^HTTP\/1.1 403/);
    expect(seen.length).toBe(before);
    expect(h.denials).toEqual([
      expect.objectContaining({ destination: 'web.test:80', reason: 'request', protocol: 'http' }),
      expect.objectContaining({ destination: 'web.test:80', reason: 'request', protocol: 'http' }),
    ]);
    expect(h.log.flush().requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/ok/1', allowed: 1, rule: 'GET web.test:80/ok/*' }),
      expect.objectContaining({ method: 'POST', path: '/ok/1', denied: 1 }),
      expect.objectContaining({ method: 'GET', path: '/secret', denied: 1 }),
    ]);
  });

  it('applies a live L7 change to the next request on the same kept-alive connection', async () => {
    const h = await start(['GET web.test:80/*'], { l7: true });
    const s = await openSocket(h.port);
    s.write('GET http://web.test/a HTTP/1.1\r\nHost: web.test\r\n\r\n');
    expect(await readUntil(s, /hello \/a/)).toMatch(/^HTTP\/1.1 200/);
    h.proxy.policy = withRules(h.proxy.policy, 'deny', parseAnyRules(['GET web.test:80/a'], 'deny'));
    s.write('GET http://web.test/a HTTP/1.1\r\nHost: web.test\r\n\r\n');
    expect(await readUntil(s, /blocked/)).toMatch(/^HTTP\/1.1 403/);
    s.destroy();
  });

  it('judges every request of a kept-alive connection by its own destination (no riding on the first)', async () => {
    const h = await start(['web.test:80']);
    const s = await openSocket(h.port);
    s.write('GET http://web.test/first HTTP/1.1\r\nHost: web.test\r\n\r\n');
    expect(await readUntil(s, /hello \/first/)).toMatch(/^HTTP\/1.1 200/);
    s.write('GET http://other.test/second HTTP/1.1\r\nHost: web.test\r\n\r\n');
    expect(await readUntil(s, /blocked/)).toContain('egress to other.test:80 is blocked');
    s.destroy();
    expect(seen.some((r) => r.url === '/second')).toBe(false);
  });

  it('never relays a tunnel to a host with L7 rules raw (nothing could judge its requests)', async () => {
    let h: Harness | undefined;
    const guard = unterminatedGuard({ terminates: (d) => hasL7Rules(h!.proxy.policy, d) }, (d, detail) =>
      h!.log.denied(d, 'request', detail, 'connect'),
    );
    h = await start(['GET web.test:80/*', 'echo.test:7'], { l7: true, handlers: [guard] });
    const out = await exchange(
      h.port,
      'CONNECT web.test:80 HTTP/1.1\r\nHost: web.test:80\r\n\r\nGET /x HTTP/1.1\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1.1 403/);
    expect(out).toContain('HTTPS rules on method and path');
    expect(h.denials).toEqual([expect.objectContaining({ destination: 'web.test:80', reason: 'request' })]);
    // A raw tunnel open before its host got L7 rules is closed by the change.
    const s = await openSocket(h.port);
    s.write('CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n');
    await readUntil(s, /200/);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    h.proxy.policy = withRules(h.proxy.policy, 'allow', parseAnyRules(['GET echo.test:7/*']));
    await closed;
  });

  it('goes by the request line, not a Host header naming another (allowed) host', async () => {
    const h = await start(['web.test:80']);
    const out = await exchange(h.port, 'GET http://other.test/x HTTP/1.0\r\nHost: web.test\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1.1 403/);
    expect(h.denials).toEqual([expect.objectContaining({ destination: 'other.test:80', reason: 'no-rule' })]);
  });
});

describe('egress proxy: plain HTTP', () => {
  it('forwards an allowed request in origin form, without proxy headers', async () => {
    const h = await start([`web.test:${80}`]);
    const out = await exchange(
      h.port,
      'GET http://web.test/a?b=1 HTTP/1.1\r\nHost: web.test\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1.1 200/);
    expect(out).toContain('hello /a?b=1');
    const last = seen[seen.length - 1]!;
    expect(last.url).toBe('/a?b=1');
    expect(last.headers['proxy-connection']).toBeUndefined();
    expect(last.headers.host).toBe('web.test');
    expect(h.log.flush().destinations).toEqual([
      expect.objectContaining({ destination: 'web.test:80', allowed: 1, denied: 0, rule: 'web.test:80' }),
    ]);
  });

  it('refuses a request no rule allows with 403, saying how to allow it, and reports the denial', async () => {
    const h = await start(['web.test:80']);
    const out = await exchange(
      h.port,
      'GET http://other.test:8080/ HTTP/1.1\r\nHost: other.test:8080\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1.1 403/);
    expect(out).toContain('egress to other.test:8080 is blocked: no rule allows it');
    expect(out).toContain('mino network allow s1 other.test:8080');
    expect(h.denials).toEqual([expect.objectContaining({ destination: 'other.test:8080', reason: 'no-rule' })]);
  });

  it('reuses one upstream connection for requests on a kept-alive client connection', async () => {
    const h = await start(['web.test:80']);
    const before = upstreamConnections;
    const s = await openSocket(h.port);
    for (let i = 0; i < 3; i++) {
      s.write(`GET http://web.test/k${i} HTTP/1.1\r\nHost: web.test\r\n\r\n`);
      expect(await readUntil(s, new RegExp(`hello /k${i}`))).toMatch(/^HTTP\/1.1 200/);
    }
    s.destroy();
    expect(upstreamConnections - before).toBe(1);
  });

  it('relays a chunked upload as sent and judges a pipelined request after it on its own', async () => {
    const h = await start(['web.test:80']);
    const out = await exchange(
      h.port,
      'POST http://web.test/up HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' +
        'GET http://other.test/next HTTP/1.1\r\nHost: web.test\r\n\r\n' +
        'GET http://web.test/stream HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n',
    );
    expect(out).toContain('got hello world');
    expect(out).toContain('egress to other.test:80 is blocked');
    expect(out).toMatch(/part1;[\s\S]*part2/);
    expect(out.match(/HTTP\/1.1 \d{3} /g)).toHaveLength(3);
    expect(seen.some((r) => r.url === '/next')).toBe(false);
  });

  it('refuses a request framed two ways (request smuggling) with 400 and forwards nothing', async () => {
    const h = await start(['web.test:80']);
    const before = seen.length;
    const out = await exchange(
      h.port,
      'POST http://web.test/a HTTP/1.1\r\nHost: web.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET http://web.test/smuggled HTTP/1.1\r\nHost: web.test\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1.1 400/);
    expect(seen.length).toBe(before);
  });

  it('answers 400 to a request that is not meant for a proxy', async () => {
    const h = await start(['web.test:80']);
    const out = await exchange(h.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1.1 400/);
    expect(out).toContain("this is the session's egress proxy");
  });

  it('runs the rewriter registered for the destination (the credential seam)', async () => {
    const rewriters = new RewriterRegistry();
    rewriters.add(parseRule('web.test:80'), (r) => ({ ...r, headers: { ...r.headers, authorization: 'Bearer real' } }));
    const h = await start(['web.test:80', 'other.test:80'], { rewriters });
    const out = await exchange(
      h.port,
      'GET http://web.test/r HTTP/1.1\r\nHost: web.test\r\nAuthorization: Bearer placeholder\r\nConnection: close\r\n\r\n',
    );
    expect(out).toContain('auth=Bearer real');
  });
});

describe('egress proxy: CONNECT and SOCKS5', () => {
  it('tunnels raw TCP to an allowed host:port, bytes sent early included', async () => {
    const h = await start(['echo.test:7']);
    const out = await exchange(
      h.port,
      'CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\nearly-bytes',
      /early-bytes/,
    );
    expect(out).toMatch(/^HTTP\/1.1 200 Connection established\r\n\r\nearly-bytes/);
  });

  it('refuses CONNECT to a port the rule does not name', async () => {
    const h = await start(['echo.test:7']);
    const out = await exchange(h.port, 'CONNECT echo.test:8 HTTP/1.1\r\nHost: echo.test:8\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1.1 403/);
  });

  it('refuses an allowed name that resolves to this host (DNS rebinding), as a denial', async () => {
    const h = await start(['rebind.test:443', 'gateway.test:443']);
    const a = await exchange(h.port, 'CONNECT rebind.test:443 HTTP/1.1\r\n\r\n');
    expect(a).toMatch(/^HTTP\/1.1 403/);
    expect(a).toContain('resolves to this host');
    const b = await exchange(h.port, 'CONNECT gateway.test:443 HTTP/1.1\r\n\r\n');
    expect(b).toMatch(/^HTTP\/1.1 403/);
    expect(h.denials.map((d) => d.reason)).toEqual(['host-address', 'host-address']);
  });

  it('reaches a host service only through host.containers.internal:PORT', async () => {
    const h = await start([`host.containers.internal:${echoPort}`]);
    const ok = await exchange(h.port, `CONNECT host.containers.internal:${echoPort} HTTP/1.1\r\n\r\nping`, /ping/);
    expect(ok).toMatch(/^HTTP\/1.1 200/);
    const other = await exchange(h.port, `CONNECT host.containers.internal:${httpPort} HTTP/1.1\r\n\r\n`);
    expect(other).toMatch(/^HTTP\/1.1 403/);
    const byAddress = await exchange(h.port, `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    expect(byAddress).toMatch(/^HTTP\/1.1 403/);
  });

  it('answers 502 when an allowed name does not resolve, and records a failure, not a denial', async () => {
    const h = await start(['nowhere.test:443']);
    const out = await exchange(h.port, 'CONNECT nowhere.test:443 HTTP/1.1\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1.1 502/);
    expect(h.log.flush().destinations[0]).toMatchObject({ destination: 'nowhere.test:443', failed: 1, denied: 0 });
  });

  it('speaks SOCKS5 on the same port: allowed names tunnel, others get "not allowed"', async () => {
    const h = await start(['echo.test:7']);
    const name = Buffer.from('echo.test');
    const req = Buffer.concat([
      Buffer.from([5, 1, 0]),
      Buffer.from([5, 1, 0, 3, name.length]),
      name,
      Buffer.from([0, 7]),
      Buffer.from('socks-data'),
    ]);
    const out = await exchange(h.port, req, /socks-data/);
    expect([...Buffer.from(out, 'latin1').subarray(0, 4)]).toEqual([5, 0, 5, 0]);
    const denied = Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, 1, 0, 1, 10, 0, 0, 5, 0, 22])]);
    const d = Buffer.from(await exchange(h.port, denied), 'latin1');
    expect([...d.subarray(0, 4)]).toEqual([5, 0, 5, 2]);
    const udp = Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, 3, 0, 1, 10, 0, 0, 5, 0, 53])]);
    expect([...Buffer.from(await exchange(h.port, udp), 'latin1').subarray(0, 4)]).toEqual([5, 0, 5, 7]);
  });

  it('closes an open tunnel when the policy stops allowing it', async () => {
    const h = await start(['echo.test:7']);
    const s = await openSocket(h.port);
    s.write('CONNECT echo.test:7 HTTP/1.1\r\n\r\n');
    await readUntil(s, /200 Connection established/);
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    h.proxy.policy = { ...h.proxy.policy, allow: [], deny: parseRules(['echo.test:7']) };
    await closed;
    expect(h.denials.at(-1)).toMatchObject({ destination: 'echo.test:7', reason: 'deny-rule' });
  });

  it('lets a tunnel handler take over allowed tunnels (the TLS-terminating seam)', async () => {
    const taken: string[] = [];
    const handler: TunnelHandler = {
      handle(t) {
        if (t.dest.host !== 'web.test') return false;
        taken.push(`${t.dest.host}:${t.dest.port}`);
        t.established();
        t.client.end('handled-by-stage');
        return true;
      },
    };
    const h = await start(['web.test:443', 'echo.test:7'], { handlers: [handler] });
    expect(await exchange(h.port, 'CONNECT web.test:443 HTTP/1.1\r\n\r\n')).toContain('handled-by-stage');
    expect(await exchange(h.port, 'CONNECT echo.test:7 HTTP/1.1\r\n\r\nraw', /raw/)).toContain('raw');
    expect(taken).toEqual(['web.test:443']);
  });

  it('allows everything but the host in learn mode, and records it', async () => {
    const h = await start([], { mode: 'learn' });
    expect(await exchange(h.port, 'CONNECT echo.test:7 HTTP/1.1\r\n\r\nx', /x$/)).toMatch(/^HTTP\/1.1 200/);
    expect(await exchange(h.port, `CONNECT host.containers.internal:${echoPort} HTTP/1.1\r\n\r\n`)).toMatch(
      /^HTTP\/1.1 403/,
    );
    const rec = h.log.flush();
    expect(rec.destinations.find((d) => d.destination === 'echo.test:7')).toMatchObject({ allowed: 1, rule: 'learn' });
  });
});
