import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newNetworkRecord } from '../../../../src/network/network-record.js';
import { policyText, type EgressPolicy } from '../../../../src/network/policy.js';
import { DestinationLog } from '../../../../src/network/proxy/destination-log.js';
import { createDialer } from '../../../../src/network/proxy/dialer.js';
import { EgressServer } from '../../../../src/network/proxy/egress-server.js';
import { RewriterRegistry, type RequestGate } from '../../../../src/network/proxy/pipeline.js';
import { createSessionCa, LeafCertificates } from '../../../../src/network/proxy/tls-ca.js';
import { terminatingHandler } from '../../../../src/network/proxy/tls-terminator.js';
import { parseRule, parseRules } from '../../../../src/network/rule.js';

/**
 * The terminating handler in-process on real sockets: a local HTTPS server (its certificate from
 * a test CA) plays api.test and other.test; the dialer maps their public-looking addresses to it.
 */

const upstreamCa = createSessionCa('upstream-test');
const sessionCa = createSessionCa('s1');
let server: HttpsServer;
let port = 0;
const seen: Array<{ url: string; method: string; headers: IncomingMessage['headers'] }> = [];

beforeAll(async () => {
  const leaves = new LeafCertificates(upstreamCa);
  const api = leaves.issue('api.test');
  server = createHttpsServer(
    {
      cert: api.certPem,
      key: api.keyPem,
      SNICallback: (name, cb) => cb(null, leaves.contextFor(name)),
    },
    (req, res) => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        setTimeout(() => res.end('data: two\n\n'), 300);
        return;
      }
      res.end(`ok ${req.method} ${req.url} key=${req.headers['x-api-key'] ?? '-'}`);
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-key: ${req.headers['x-api-key'] ?? '-'}\r\n\r\n`,
    );
    socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => server.close());

const ADDRESSES: Record<string, string> = { 'api.test': '203.0.113.10', 'other.test': '203.0.113.10' };

let closeAll: (() => void) | undefined;
afterEach(() => closeAll?.());

async function start(gate?: RequestGate, upstream = upstreamCa.certPem) {
  const policy: EgressPolicy = { mode: 'allowlist', allow: parseRules(['api.test:443', 'other.test:443']), deny: [] };
  const denials: Array<{ destination: string; reason: string; detail: string }> = [];
  const log = new DestinationLog(
    newNetworkRecord('s1', 'allowlist', policyText(policy), []),
    () => undefined,
    (d) => denials.push(d),
    10,
  );
  const dialer = createDialer({
    resolve: async (host) => [ADDRESSES[host] ?? '192.0.2.1'],
    hostAddresses: () => new Set(['198.51.100.1']),
    connect: (_address, _port) =>
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      }),
  });
  const rewriters = new RewriterRegistry();
  rewriters.add(parseRule('api.test:443'), (r) => {
    if (r.headers['x-api-key'] === 'PLACEHOLDER') r.headers['x-api-key'] = 'real-secret';
    return r;
  });
  const handler = terminatingHandler({
    certificates: new LeafCertificates(sessionCa),
    ...(gate ? { gate } : {}),
    afterRewrite: (r) =>
      JSON.stringify(r.headers).includes('PLACEHOLDER')
        ? { allow: false, reason: 'placeholder leak' }
        : { allow: true },
    upstreamCa: upstream,
    denied: (dest, reason, detail) => log.denied(dest, reason, detail, 'https'),
  });
  const proxy = new EgressServer({ session: 's1', policy, dialer, log, handlers: [handler], rewriters });
  const listener = createServer({ allowHalfOpen: true });
  proxy.attach(listener);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  closeAll = () => {
    handler.close();
    proxy.close();
    listener.close();
  };
  return { port: (listener.address() as AddressInfo).port, denials };
}

/** CONNECT through the proxy, then TLS trusting `ca` only. */
function tunnel(proxyPort: number, host: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = connect(proxyPort, '127.0.0.1');
    raw.once('error', reject);
    raw.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
    let head = '';
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      raw.removeListener('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) {
        reject(new Error(head));
        return;
      }
      const secure = tlsConnect({ socket: raw, servername: host, ca, ALPNProtocols: ['http/1.1', 'h2'] });
      secure.once('secureConnect', () => resolve(secure));
      secure.once('error', reject);
    };
    raw.on('data', onData);
  });
}

/** Writes a request and reads one response (Content-Length or close). */
function exchange(s: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString('latin1');
      const end = out.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(out);
      if (end >= 0 && len && out.length >= end + 4 + Number(len[1])) {
        s.removeListener('data', onData);
        resolve(out);
      }
    };
    s.on('data', onData);
    s.once('close', () => resolve(out));
    s.write(text);
  });
}

describe('terminatingHandler', () => {
  it('terminates with a session-CA certificate, swaps the credential in, offers http/1.1 only', async () => {
    const { port: p } = await start();
    const s = await tunnel(p, 'api.test', sessionCa.certPem);
    expect(s.alpnProtocol).toBe('http/1.1');
    const res = await exchange(s, 'GET /v1/messages HTTP/1.1\r\nHost: api.test\r\nx-api-key: PLACEHOLDER\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 200/);
    expect(res).toContain('ok GET /v1/messages key=real-secret');
    expect(seen.at(-1)?.headers['x-api-key']).toBe('real-secret');
    // AES-128-GCM to the sandbox's client (node's clients prefer AES-256): the cheapest for the proxy
    expect(s.getCipher().name).toBe('TLS_AES_128_GCM_SHA256');
    s.destroy();
  });

  it('keeps the connection: a request for another Host is refused (403, recorded), the next one works', async () => {
    const h = await start();
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    expect(await exchange(s, 'GET /a HTTP/1.1\r\nHost: api.test\r\n\r\n')).toContain('ok GET /a');
    const denied = await exchange(s, 'GET /b HTTP/1.1\r\nHost: other.test\r\n\r\n');
    expect(denied).toMatch(/^HTTP\/1\.1 403/);
    expect(h.denials).toEqual([
      expect.objectContaining({
        destination: 'api.test:443',
        reason: 'request',
        detail: expect.stringContaining('other.test'),
      }),
    ]);
    expect(await exchange(s, 'GET /c HTTP/1.1\r\nHost: api.test:443\r\n\r\n')).toContain('ok GET /c');
    s.destroy();
  });

  it('refuses a TLS server name (SNI) of another host than the CONNECT one (domain fronting)', async () => {
    const h = await start();
    const s = await new Promise<TLSSocket>((resolve, reject) => {
      const raw = connect(h.port, '127.0.0.1');
      raw.write('CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n');
      raw.once('data', () => {
        const secure = tlsConnect({ socket: raw, servername: 'other.test', rejectUnauthorized: false });
        secure.once('secureConnect', () => resolve(secure));
        secure.once('error', reject);
      });
    });
    const res = await exchange(s, 'GET /front HTTP/1.1\r\nHost: api.test\r\n\r\n');
    expect(res).not.toContain('ok GET /front');
    expect(seen.some((r) => r.url === '/front')).toBe(false);
    expect(h.denials.at(-1)).toMatchObject({
      reason: 'request',
      detail: expect.stringContaining('TLS server name other.test'),
    });
  });

  it('judges absolute-form and HTTP/1.0 requests by their own authority too', async () => {
    const h = await start();
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    const other = await exchange(s, 'GET https://other.test/abs HTTP/1.1\r\nHost: api.test\r\n\r\n');
    expect(other).toMatch(/^HTTP\/1\.1 403/);
    expect(await exchange(s, 'GET https://api.test/abs HTTP/1.1\r\nHost: api.test\r\n\r\n')).toContain('ok GET /abs');
    const old = await exchange(s, 'GET /old HTTP/1.0\r\nHost: other.test\r\n\r\n');
    expect(old).toMatch(/^HTTP\/1\.1 403/);
    expect(seen.some((r) => r.url === '/old' || r.url === 'https://other.test/abs')).toBe(false);
    s.destroy();
  });

  it('asks the gate before sending; a denied request never reaches the server', async () => {
    const h = await start((r) =>
      r.method === 'POST' ? { allow: false, reason: 'POST not allowed' } : { allow: true },
    );
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    const before = seen.length;
    const res = await exchange(s, 'POST /x HTTP/1.1\r\nHost: api.test\r\nContent-Length: 2\r\n\r\nhi');
    expect(res).toMatch(/^HTTP\/1\.1 403/);
    expect(res).toContain('POST not allowed');
    expect(seen.length).toBe(before);
    expect(await exchange(s, 'GET /y HTTP/1.1\r\nHost: api.test\r\n\r\n')).toContain('ok GET /y');
    s.destroy();
  });

  it('blocks a request the after-rewrite check refuses (placeholder to a host it is not bound to)', async () => {
    const h = await start();
    const s2 = await tunnel(h.port, 'api.test', sessionCa.certPem);
    const res = await exchange(s2, 'GET /z HTTP/1.1\r\nHost: api.test\r\nx-other: PLACEHOLDER\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 403/);
    expect(h.denials.at(-1)).toMatchObject({ reason: 'credential-leak' });
    s2.destroy();
  });

  it('leaves hosts without a rewriter to the raw relay (the client sees the server itself)', async () => {
    const h = await start();
    const s = await tunnel(h.port, 'other.test', upstreamCa.certPem);
    expect(s.getPeerCertificate().issuer.CN).toContain('upstream-test');
    s.destroy();
  });

  it('verifies the upstream server: an untrusted one gets 502', async () => {
    const h = await start(undefined, createSessionCa('someone-else').certPem);
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    const res = await exchange(s, 'GET / HTTP/1.1\r\nHost: api.test\r\n\r\n');
    expect(res).toMatch(/^HTTP\/1\.1 502/);
    s.destroy();
  });

  it('streams responses as they come (SSE)', async () => {
    const h = await start();
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    const first = await new Promise<{ text: string; at: number }>((resolve) => {
      const t0 = Date.now();
      s.once('data', (d: Buffer) => resolve({ text: d.toString(), at: Date.now() - t0 }));
      s.write('GET /stream HTTP/1.1\r\nHost: api.test\r\n\r\n');
    });
    let all = first.text;
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        all += d.toString();
        if (all.includes('data: two')) resolve();
      });
    });
    expect(first.at).toBeLessThan(250);
    expect(all).toContain('data: one');
    s.destroy();
  });

  it('relays a WebSocket upgrade, credential swapped', async () => {
    const h = await start();
    const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
    let out = '';
    await new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ping-after-upgrade')) resolve();
      });
      s.write(
        'GET /ws HTTP/1.1\r\nHost: api.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nx-api-key: PLACEHOLDER\r\n\r\n',
      );
      setTimeout(() => s.write('ping-after-upgrade'), 100);
    });
    expect(out).toMatch(/^HTTP\/1\.1 101/);
    expect(out).toContain('x-key: real-secret');
    s.destroy();
  });

  it("dials again when the server closed the first upstream connection before the client's first request", async () => {
    // A server that hangs up on its first connection right after the handshake, then serves.
    const leaf = new LeafCertificates(upstreamCa).issue('api.test');
    let connections = 0;
    const closing = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (c) => {
      connections++;
      if (connections === 1) {
        c.end();
        return;
      }
      c.once('data', () => c.write('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nsecond!\n'));
    });
    await new Promise<void>((r) => closing.listen(0, '127.0.0.1', r));
    const mainPort = port;
    port = (closing.address() as AddressInfo).port;
    try {
      const h = await start();
      const s = await tunnel(h.port, 'api.test', sessionCa.certPem);
      await new Promise((r) => setTimeout(r, 200));
      const res = await exchange(s, 'GET /late HTTP/1.1\r\nHost: api.test\r\n\r\n');
      expect(res).toMatch(/^HTTP\/1\.1 200/);
      expect(res).toContain('second!');
      expect(connections).toBe(2);
      s.destroy();
    } finally {
      port = mainPort;
      closing.close();
    }
  });
});
