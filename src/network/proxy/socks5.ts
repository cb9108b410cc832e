import { isIPv4 } from 'node:net';

/**
 * The SOCKS5 handshake (RFC 1928), no authentication, CONNECT only, as an incremental parser:
 * feed it the bytes received so far; it says what to answer and, once the request is complete,
 * the destination and any bytes that followed it. `socks5h://` clients send names (resolved by
 * the proxy, on the host); `socks5://` clients send addresses.
 */

/** SOCKS5 reply codes mino uses. */
export const SOCKS_REPLY = {
  succeeded: 0x00,
  failure: 0x01,
  notAllowed: 0x02,
  hostUnreachable: 0x04,
  refused: 0x05,
  commandNotSupported: 0x07,
  addressNotSupported: 0x08,
} as const;

/** Parser state after a feed. */
export type SocksStep =
  | { kind: 'more' }
  | { kind: 'greeted'; reply: Buffer; rest: Buffer }
  | { kind: 'request'; host: string; port: number; rest: Buffer }
  | { kind: 'error'; reply: Buffer | undefined; message: string };

/** A reply to a CONNECT request with the given code (bound address 0.0.0.0:0). */
export function socksReply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

/** Parses the greeting (version, methods) at the start of `buf`. */
export function parseGreeting(buf: Buffer): SocksStep {
  if (buf.length < 2) return { kind: 'more' };
  if (buf[0] !== 0x05) return { kind: 'error', reply: undefined, message: 'not SOCKS version 5' };
  const n = buf[1]!;
  if (buf.length < 2 + n) return { kind: 'more' };
  const methods = buf.subarray(2, 2 + n);
  if (!methods.includes(0x00))
    return {
      kind: 'error',
      reply: Buffer.from([0x05, 0xff]),
      message: 'the client offers no method without authentication',
    };
  return { kind: 'greeted', reply: Buffer.from([0x05, 0x00]), rest: buf.subarray(2 + n) };
}

function ipv6Text(bytes: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(bytes.readUInt16BE(i).toString(16));
  return parts.join(':');
}

/** Parses a request (after the greeting) at the start of `buf`. */
export function parseRequest(buf: Buffer): SocksStep {
  if (buf.length < 5) return { kind: 'more' };
  if (buf[0] !== 0x05) return { kind: 'error', reply: socksReply(SOCKS_REPLY.failure), message: 'not SOCKS version 5' };
  if (buf[1] !== 0x01)
    return {
      kind: 'error',
      reply: socksReply(SOCKS_REPLY.commandNotSupported),
      message: `SOCKS command ${buf[1]} is not supported (only CONNECT; no UDP)`,
    };
  const atyp = buf[3];
  let host: string;
  let at: number;
  if (atyp === 0x01) {
    if (buf.length < 10) return { kind: 'more' };
    host = [...buf.subarray(4, 8)].join('.');
    at = 8;
  } else if (atyp === 0x03) {
    const len = buf[4]!;
    if (buf.length < 5 + len + 2) return { kind: 'more' };
    host = buf.subarray(5, 5 + len).toString('latin1');
    at = 5 + len;
  } else if (atyp === 0x04) {
    if (buf.length < 22) return { kind: 'more' };
    host = ipv6Text(buf.subarray(4, 20));
    at = 20;
  } else {
    return {
      kind: 'error',
      reply: socksReply(SOCKS_REPLY.addressNotSupported),
      message: `SOCKS address type ${atyp} is not supported`,
    };
  }
  const port = buf.readUInt16BE(at);
  if (atyp === 0x01 && !isIPv4(host))
    return { kind: 'error', reply: socksReply(SOCKS_REPLY.addressNotSupported), message: 'bad IPv4 address' };
  return { kind: 'request', host, port, rest: buf.subarray(at + 2) };
}
