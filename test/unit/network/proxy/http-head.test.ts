import { describe, expect, it } from 'vitest';
import { parseRequestHead, parseResponseHead, requestHeadText } from '../../../../src/network/proxy/http-head.js';

describe('parseRequestHead', () => {
  it('reads method, target, version, fields (repeated ones as arrays) and the body framing', () => {
    const h = parseRequestHead(
      'POST http://a.test/x?y=1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nConnection: keep-alive',
    );
    expect(h).toEqual({
      method: 'POST',
      target: 'http://a.test/x?y=1',
      minor: 1,
      headers: { host: 'a.test', 'content-length': '5', 'x-a': ['1', '2'], connection: 'keep-alive' },
      body: { kind: 'length', length: 5 },
      close: false,
      upgrade: false,
    });
    expect(parseRequestHead('GET / HTTP/1.0\r\nHost: a')).toMatchObject({ minor: 0, close: true });
    expect(parseRequestHead('GET / HTTP/1.1\r\nTransfer-Encoding: chunked')).toMatchObject({
      body: { kind: 'chunked' },
    });
    expect(parseRequestHead('GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade')).toMatchObject({
      upgrade: true,
    });
  });

  it('refuses what a server could read otherwise (request smuggling): 400 or 501', () => {
    const bad = [
      'GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked',
      'GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b',
      'GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
      'GET / HTTP/1.1\r\nContent-Length: -1',
      'GET / HTTP/1.1\r\nContent-Length: 1, 1',
      'GET / HTTP/1.1\r\nX: a\r\n continued',
      'GET / HTTP/1.1\r\nX : a',
      'GET / HTTP/1.1\r\nX: a\nY: b',
      'GET / HTTP/1.1\r\nX: a\rb',
      'GET / HTTP/2.0',
      'GET  / HTTP/1.1',
      'GET / HTTP/1.0\r\nTransfer-Encoding: chunked',
    ];
    for (const text of bad) expect(parseRequestHead(text), text).toMatchObject({ status: 400 });
    expect(parseRequestHead('GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked')).toMatchObject({ status: 501 });
  });
});

describe('parseResponseHead', () => {
  it('frames by method, status, Transfer-Encoding, Content-Length, else until close', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 3', 'GET')).toEqual({
      status: 200,
      body: { kind: 'length', length: 3 },
      close: false,
    });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 3', 'HEAD')?.body).toEqual({ kind: 'none' });
    expect(parseResponseHead('HTTP/1.1 304 Not Modified\r\nContent-Length: 3', 'GET')?.body).toEqual({
      kind: 'none',
    });
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'GET')?.body).toEqual({
      kind: 'chunked',
    });
    expect(parseResponseHead('HTTP/1.1 200 OK', 'GET')).toEqual({ status: 200, body: { kind: 'close' }, close: true });
    expect(parseResponseHead('HTTP/1.0 200 OK\r\nContent-Length: 0', 'GET')?.close).toBe(true);
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0', 'GET')?.close).toBe(true);
    expect(parseResponseHead('SSH-2.0-x', 'GET')).toBeUndefined();
  });
});

describe('requestHeadText', () => {
  it('writes the origin-form request with the framing fields of the relayed body', () => {
    const req = { minor: 1 as const, body: { kind: 'chunked' as const }, upgrade: false };
    expect(requestHeadText('POST', '/p', req, { host: 'a', 'x-a': ['1', '2'] })).toBe(
      'POST /p HTTP/1.1\r\nhost: a\r\nx-a: 1\r\nx-a: 2\r\ntransfer-encoding: chunked\r\n\r\n',
    );
  });

  it('refuses a field a rewriter broke (CR or LF in a value), never writing it', () => {
    const req = { minor: 1 as const, body: { kind: 'none' as const }, upgrade: false };
    expect(() => requestHeadText('GET', '/', req, { authorization: 'a\r\nx: y' })).toThrow(/authorization/);
    expect(() => requestHeadText('GET', '/ x', req, {})).toThrow(/request line/);
  });
});
