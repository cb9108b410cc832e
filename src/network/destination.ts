import { isIPv4 } from 'node:net';
import { canonicalIpv6, hostNameProblem, mappedIpv4 } from './rule.js';

/**
 * A destination a sandboxed client asked the proxy for (`CONNECT host:port`, an absolute
 * `http://host:port/` URL, a SOCKS5 request), normalized so rules compare reliably: names lower
 * case without a trailing dot, IPv6 addresses canonical and without brackets, IPv4-mapped IPv6
 * addresses as IPv4. Anything else (spaces, `%` zone ids, control characters) is not a
 * destination at all.
 */

/** What the host part of a destination is. */
type DestinationKind = 'name' | 'ipv4' | 'ipv6';

/** A normalized destination. */
export interface Destination {
  kind: DestinationKind;
  host: string;
  port: number;
}

/** Normalizes a host from a client; undefined when it is not a valid name or address. */
function normalizeHost(raw: string): { kind: DestinationKind; host: string } | undefined {
  let host = raw.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIPv4(host)) return { kind: 'ipv4', host };
  const v6 = canonicalIpv6(host);
  if (v6 !== undefined) {
    const v4 = mappedIpv4(v6);
    return v4 === undefined ? { kind: 'ipv6', host: v6 } : { kind: 'ipv4', host: v4 };
  }
  if (host.endsWith('.') && host.length > 1) host = host.slice(0, -1);
  if (hostNameProblem(host) !== undefined) return undefined;
  return { kind: 'name', host };
}

/** A destination from a host and a port number; undefined when either is invalid. */
export function destinationOf(host: string, port: number): Destination | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const h = normalizeHost(host);
  return h === undefined ? undefined : { ...h, port };
}

/** Parses a CONNECT authority (`host:port`, `[v6]:port`); undefined when malformed. */
export function parseAuthority(authority: string): Destination | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(authority);
  if (!m) return undefined;
  return destinationOf(m[1]!, Number(m[2]));
}

/** `host:port` (IPv6 in brackets), as shown to people and in records. */
export function formatDestination(d: Pick<Destination, 'kind' | 'host' | 'port'>): string {
  return d.kind === 'ipv6' ? `[${d.host}]:${d.port}` : `${d.host}:${d.port}`;
}
