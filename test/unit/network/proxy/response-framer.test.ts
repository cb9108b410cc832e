import { describe, expect, it } from 'vitest';
import { ChunkedError, ChunkedScanner } from '../../../../src/network/proxy/chunked-scanner.js';
import { ResponseFramer } from '../../../../src/network/proxy/response-framer.js';

/** Feeds `text` in pieces of `size` bytes; returns the offset in the whole text where it ended. */
function endOf(framer: ResponseFramer, text: string, size: number): number {
  const buf = Buffer.from(text, 'latin1');
  for (let at = 0; at < buf.length; at += size) {
    const step = framer.feed(buf.subarray(at, at + size));
    if (step.end !== -1) return at + step.end;
  }
  return -1;
}

describe('ChunkedScanner', () => {
  it('finds the end of a chunked body, byte by byte or at once, extensions and trailers included', () => {
    const body = '5;x=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\nNEXT';
    for (const size of [1, 3, body.length]) {
      const s = new ChunkedScanner();
      const buf = Buffer.from(body);
      let end = -1;
      for (let at = 0; at < buf.length && end === -1; at += size) {
        const e = s.feed(buf.subarray(at, at + size));
        if (e !== -1) end = at + e;
      }
      expect(end, `pieces of ${size}`).toBe(body.indexOf('NEXT'));
    }
  });

  it('refuses malformed framing and, for requests, trailers', () => {
    for (const bad of ['x\r\n', '5\r\nhelloX\r\n', '5\nhello\r\n', '1 2\r\n', '0\r\nbad trailer\r\n\r\n'])
      expect(() => new ChunkedScanner().feed(Buffer.from(bad)), bad).toThrow(ChunkedError);
    expect(() => new ChunkedScanner(false).feed(Buffer.from('0\r\nX: 1\r\n\r\n'))).toThrow(/trailer/);
  });
});

describe('ResponseFramer', () => {
  const cases: Array<[string, string, string]> = [
    ['length', 'GET', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'],
    ['chunked', 'GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
    ['HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n'],
    ['interim', 'POST', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
  ];
  for (const [name, method, text] of cases) {
    it(`finds the end of a response (${name}), whatever the pieces`, () => {
      for (const size of [1, 7, text.length + 5]) {
        const f = new ResponseFramer();
        f.reset(method, false);
        expect(endOf(f, `${text}HTTP/1.1 200`, size), `pieces of ${size}`).toBe(text.length);
      }
    });
  }

  it('a body without length runs until the close; a 101 to an Upgrade request ends HTTP', () => {
    const f = new ResponseFramer();
    f.reset('GET', false);
    expect(f.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome')).end).toBe(-1);
    expect(f.untilClose).toBe(true);
    f.reset('GET', true);
    const head = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n';
    expect(f.feed(Buffer.from(`${head}frames`))).toEqual({ end: head.length, upgraded: true });
    f.reset('GET', false);
    expect(() => f.feed(Buffer.from(head))).toThrow(/101/);
  });
});
