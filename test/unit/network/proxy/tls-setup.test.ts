import type { IncomingMessage } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyMarks, splitProxyOnly } from '../../../../src/credentials/proxy-credential.js';
import { newNetworkRecord } from '../../../../src/network/network-record.js';
import { policyText, type EgressPolicy } from '../../../../src/network/policy.js';
import { DestinationLog } from '../../../../src/network/proxy/destination-log.js';
import { createDialer } from '../../../../src/network/proxy/dialer.js';
import { EgressServer } from '../../../../src/network/proxy/egress-server.js';
import { createSessionCa, LeafCertificates } from '../../../../src/network/proxy/tls-ca.js';
import { tlsStages } from '../../../../src/network/proxy/tls-setup.js';
import { credentialsOf } from '../../../../src/network/egress-secrets.js';
import { parseRules } from '../../../../src/network/rule.js';
import { sessionTls } from '../../../../src/run/session-tls.js';

/**
 * The proxy's TLS stages as `mino run` sets them up, with the built-in credentials: the real
 * host names (api.anthropic.com, github.com…) are mapped by the test dialer to a local HTTPS
 * server whose certificates a test CA signs for any name; nothing leaves this machine.
 */

const upstreamCa = createSessionCa('upstream-test');
const seen: Array<{ host: string; url: string; headers: IncomingMessage['headers'] }> = [];
/** Every request body the servers received, in full or in part. */
const bodies: string[] = [];
let https: HttpsServer;
let plain: Server;
let httpsPort = 0;
let plainPort = 0;
let proxyPort = 0;
const denials: Array<{ destination: string; reason: string; detail: string }> = [];
let close: () => void = () => undefined;

const ANTHROPIC = 'sk-ant-REAL-1';
const GH = 'ghp_REAL_2';

const split = splitProxyOnly(
  new Map([
    ['ANTHROPIC_API_KEY', ANTHROPIC],
    ['GH_TOKEN', GH],
  ]),
  proxyMarks([]),
);
const tls = await sessionTls('s1', split.rules, split.values, [upstreamCa.certPem], {});
const placeholder = (v: string): string => split.rules.find((r) => r.variable === v)!.placeholder;

beforeAll(async () => {
  const leaves = new LeafCertificates(upstreamCa);
  const first = leaves.issue('api.anthropic.com');
  https = createHttpsServer(
    { cert: first.certPem, key: first.keyPem, SNICallback: (n, cb) => cb(null, leaves.contextFor(n)) },
    (req, res) => {
      seen.push({ host: String(req.headers.host), url: req.url ?? '', headers: req.headers });
      const at = bodies.push('') - 1;
      req.on('data', (d: Buffer) => (bodies[at] += d.toString('latin1')));
      req.on('end', () => res.end('ok'));
      req.on('error', () => undefined);
    },
  );
  plain = createHttpServer((req, res) => {
    seen.push({ host: String(req.headers.host), url: req.url ?? '', headers: req.headers });
    const at = bodies.push('') - 1;
    req.on('data', (d: Buffer) => (bodies[at] += d.toString('latin1')));
    req.on('end', () => res.end('plain'));
    req.on('error', () => undefined);
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  httpsPort = (https.address() as AddressInfo).port;
  plainPort = (plain.address() as AddressInfo).port;

  const policy: EgressPolicy = {
    mode: 'allowlist',
    allow: parseRules(['api.anthropic.com:443', 'github.com:443', 'gist.github.com:443', 'example.org:80']),
    deny: [],
  };
  const log = new DestinationLog(
    newNetworkRecord('s1', 'allowlist', policyText(policy), []),
    () => undefined,
    (d) => denials.push(d),
    10,
  );
  const dialer = createDialer({
    resolve: async () => ['203.0.113.10'],
    hostAddresses: () => new Set(),
    connect: (_a, port) =>
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: port === 80 ? plainPort : httpsPort }, () => resolve(s));
        s.once('error', reject);
      }),
  });
  const stages = tlsStages(tls.secrets);
  const proxy = new EgressServer({
    session: 's1',
    policy,
    dialer,
    log,
    handlers: stages.handlers((dest, reason, detail) => log.denied(dest, reason, detail, 'https')),
    rewriters: stages.rewriters,
    requestGuard: stages.requestGuard,
    ...(stages.bodyGuard ? { bodyGuard: stages.bodyGuard } : {}),
  });
  const listener = createServer();
  proxy.attach(listener);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  proxyPort = (listener.address() as AddressInfo).port;
  close = () => {
    stages.close();
    proxy.close();
    listener.close();
  };
});

afterAll(() => {
  close();
  https.close();
  plain.close();
});

function tunnel(host: string, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = connect(proxyPort, '127.0.0.1');
    raw.once('error', reject);
    raw.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
    raw.once('data', (d: Buffer) => {
      if (!d.toString().startsWith('HTTP/1.1 200')) return reject(new Error(d.toString()));
      const s = tlsConnect({ socket: raw, servername: host, ca });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
  });
}

function get(s: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString();
      if (/\r\n\r\n/.test(out) && /content-length: (\d+)/i.test(out)) {
        const len = Number(/content-length: (\d+)/i.exec(out)![1]);
        if (out.length >= out.indexOf('\r\n\r\n') + 4 + len) resolve(out);
      }
    });
    s.write(text);
  });
}

const caOfSession = tls.secrets.ca!.certPem;

describe('built-in credentials at the proxy', () => {
  it('api.anthropic.com: the placeholder in x-api-key becomes the key', async () => {
    const s = await tunnel('api.anthropic.com', caOfSession);
    await get(
      s,
      `POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nx-api-key: ${placeholder('ANTHROPIC_API_KEY')}\r\nContent-Length: 0\r\n\r\n`,
    );
    expect(seen.at(-1)).toMatchObject({ host: 'api.anthropic.com', url: '/v1/messages' });
    expect(seen.at(-1)?.headers['x-api-key']).toBe(ANTHROPIC);
    s.destroy();
  });

  it('github.com: git gets Basic credentials added; gist.github.com stays a tunnel to the real server', async () => {
    const s = await tunnel('github.com', caOfSession);
    await get(s, 'GET /o/r.git/info/refs?service=git-receive-pack HTTP/1.1\r\nHost: github.com\r\n\r\n');
    const auth = String(seen.at(-1)?.headers.authorization);
    expect(Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()).toBe(`x-access-token:${GH}`);
    s.destroy();
    const gist = await tunnel('gist.github.com', upstreamCa.certPem);
    expect(gist.getPeerCertificate().issuer.CN).toContain('upstream-test');
    gist.destroy();
  });

  it('a placeholder in plain HTTP to another host is refused and reported, never forwarded', async () => {
    const before = seen.length;
    const res = await new Promise<string>((resolve) => {
      const raw = connect(proxyPort, '127.0.0.1');
      let out = '';
      raw.on('data', (d: Buffer) => (out += d.toString()));
      raw.on('close', () => resolve(out));
      raw.write(
        `GET http://example.org/?t=${placeholder('GH_TOKEN')} HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n`,
      );
    });
    expect(res).toMatch(/^HTTP\/1\.1 403/);
    expect(seen.length).toBe(before);
    expect(denials.at(-1)).toMatchObject({ destination: 'example.org:80', reason: 'credential-leak' });
    expect(JSON.stringify(denials)).not.toContain(GH);
  });

  it('a placeholder in a request body to a host it is not bound to is refused, even split across chunks', async () => {
    const gh = placeholder('GH_TOKEN');
    const s = await tunnel('api.anthropic.com', caOfSession);
    const answer = new Promise<string>((resolve) => {
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    s.write('POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nTransfer-Encoding: chunked\r\n\r\n');
    const half = Math.floor(gh.length / 2);
    s.write(`${(10 + half).toString(16)}\r\n{"text": "${gh.slice(0, half)}\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    s.write(`${(gh.length - half + 2).toString(16)}\r\n${gh.slice(half)}"}\r\n0\r\n\r\n`);
    expect(await answer).toMatch(/^HTTP\/1\.1 403/);
    expect(denials.at(-1)).toMatchObject({ destination: 'api.anthropic.com:443', reason: 'credential-leak' });
    expect(denials.at(-1)?.detail).toContain('GH_TOKEN');
    expect(bodies.some((b) => b.includes(gh))).toBe(false);
    // Plain HTTP, and the bound credential's own host still takes its placeholder in a body.
    const plainRes = await new Promise<string>((resolve) => {
      const raw = connect(proxyPort, '127.0.0.1');
      let out = '';
      raw.on('data', (d: Buffer) => (out += d.toString()));
      raw.on('close', () => resolve(out));
      const body = `token=${placeholder('ANTHROPIC_API_KEY')}`;
      raw.write(
        `POST http://example.org/ HTTP/1.1\r\nHost: example.org\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    expect(plainRes).toMatch(/^HTTP\/1\.1 403/);
    expect(denials.at(-1)).toMatchObject({ destination: 'example.org:80', reason: 'credential-leak' });
    const own = await tunnel('api.anthropic.com', caOfSession);
    const body = `{"k": "${placeholder('ANTHROPIC_API_KEY')}"}`;
    const ok = await get(
      own,
      `POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
    own.destroy();
    expect(JSON.stringify(denials)).not.toContain(GH);
    expect(JSON.stringify(denials)).not.toContain(ANTHROPIC);
  });
});

describe("a warm proxy (started with a CA and no credential) takes a claim's credentials", () => {
  const anthropic = { kind: 'name', host: 'api.anthropic.com', port: 443 } as const;
  const request = (auth: string) => ({
    dest: anthropic,
    method: 'GET',
    path: '/v1/models',
    headers: { host: 'api.anthropic.com', 'x-api-key': auth },
  });

  it('swaps and guards nothing before the claim, then exactly what the claim handed over; only once', () => {
    const warm = tlsStages({ version: 1, ca: tls.secrets.ca, credentials: [], upstreamCa: [] });
    expect(warm.rewriters.for(anthropic)).toBeUndefined();
    expect(warm.requestGuard).toBeUndefined();
    expect(warm.bodyGuard).toBeUndefined();
    warm.addCredentials(credentialsOf(JSON.parse(JSON.stringify(tls.secrets.credentials))));
    const rewrite = warm.rewriters.for(anthropic);
    expect(rewrite).toBeDefined();
    const swapped = rewrite!(request(placeholder('ANTHROPIC_API_KEY')) as never) as { headers: Record<string, string> };
    expect(swapped.headers['x-api-key']).toBe(ANTHROPIC);
    // The guard and the body guard now know the placeholders: GH_TOKEN's is not for this host.
    expect(warm.requestGuard?.(request(placeholder('GH_TOKEN')) as never)).toMatchObject({ allow: false });
    expect(warm.bodyGuard?.(anthropic)).toBeDefined();
    expect(() => warm.addCredentials(tls.secrets.credentials)).toThrow(/credentials already/);
    expect(() => tlsStages(undefined).addCredentials(tls.secrets.credentials)).toThrow(/without a CA/);
  });

  it('refuses a claim whose credentials are malformed', () => {
    const good = tls.secrets.credentials[0]!;
    expect(() => credentialsOf('x')).toThrow(/not a list/);
    expect(() => credentialsOf([{ ...good, hosts: 'api.anthropic.com' }])).toThrow(/malformed/);
    expect(() => credentialsOf([{ ...good, placeholder: 'short' }])).toThrow(/malformed/);
    expect(() => credentialsOf([{ ...good, add: 'yes' }])).toThrow(/malformed/);
    expect(() => credentialsOf([null])).toThrow(/malformed/);
    expect(credentialsOf([{ ...good, extra: 1 }])).toEqual([good]);
  });
});
