import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNetworkRecord } from '../../../../src/network/network-record.js';
import { policyText, type EgressPolicy } from '../../../../src/network/policy.js';
import { DestinationLog } from '../../../../src/network/proxy/destination-log.js';
import { createDialer } from '../../../../src/network/proxy/dialer.js';
import { EgressServer } from '../../../../src/network/proxy/egress-server.js';
import { parseRules } from '../../../../src/network/rule.js';

/**
 * The dialer's large reads (one shared 1 MB buffer, each read passed on as a copy) on real
 * sockets: two big bodies on one kept-alive plain-HTTP connection, and one through a CONNECT
 * tunnel, arrive whole and in order, through the real dialer (host services on this loopback).
 */

const body = randomBytes(5 * 1024 * 1024 + 123);
const digest = createHash('sha256').update(body).digest('hex');
let upstream: HttpServer;
let proxy: EgressServer;
let listener: Server;
let upstreamPort = 0;
let proxyPort = 0;

beforeAll(async () => {
  upstream = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
  const policy: EgressPolicy = {
    mode: 'allowlist',
    allow: parseRules([`host.containers.internal:${upstreamPort}`]),
    deny: [],
  };
  const log = new DestinationLog(
    newNetworkRecord('s1', 'allowlist', policyText(policy), []),
    () => undefined,
    () => undefined,
    10,
  );
  proxy = new EgressServer({
    session: 's1',
    policy,
    dialer: createDialer({ hostServiceAddresses: ['127.0.0.1'], highWaterMark: 256 * 1024 }),
    log,
  });
  listener = createServer({ allowHalfOpen: true });
  proxy.attach(listener);
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  proxyPort = (listener.address() as AddressInfo).port;
});

afterAll(() => {
  proxy.close();
  listener.close();
  upstream.close();
});

/** Sends `request` on a new proxy connection and reads `count` responses of `body`'s length. */
function fetchBodies(request: string, count: number, skipFirstHead = false): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(proxyPort, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const digests: string[] = [];
    let skipped = !skipFirstHead;
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!skipped) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          buf = buf.subarray(end + 4);
          skipped = true;
          s.write(request);
        }
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1 || buf.length < end + 4 + body.length) return;
        digests.push(
          createHash('sha256')
            .update(buf.subarray(end + 4, end + 4 + body.length))
            .digest('hex'),
        );
        buf = buf.subarray(end + 4 + body.length);
        if (digests.length === count) {
          s.destroy();
          resolve(digests);
          return;
        }
        s.write(request);
      }
    });
    s.on('error', reject);
    s.write(skipFirstHead ? `CONNECT host.containers.internal:${upstreamPort} HTTP/1.1\r\n\r\n` : request);
  });
}

describe('bulk reads of upstream sockets', () => {
  it('relays big plain-HTTP bodies whole, twice on one kept-alive connection', async () => {
    const request = `GET http://host.containers.internal:${upstreamPort}/big HTTP/1.1\r\nHost: host.containers.internal:${upstreamPort}\r\n\r\n`;
    expect(await fetchBodies(request, 2)).toEqual([digest, digest]);
  });

  it('relays a big body whole through a CONNECT tunnel', async () => {
    const request = `GET /big HTTP/1.1\r\nHost: host.containers.internal:${upstreamPort}\r\n\r\n`;
    expect(await fetchBodies(request, 1, true)).toEqual([digest]);
  });
});
