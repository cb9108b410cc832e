import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { HOST_SERVICES_NAME, RuleError, canonicalIpv6, formatRule, mappedIpv4, type Rule } from './rule.js';

/**
 * Which resolved addresses the proxy may connect to. A name that a rule allows can still resolve
 * to the host itself (DNS rebinding, a hostile `/etc/hosts` entry, `*.nip.io`-style names): the
 * proxy runs on the host, so connecting there would hand the sandbox the host's loopback services.
 * Only `host.containers.internal:PORT` rules reach the host; every other connection to a loopback,
 * unspecified, link-local (cloud metadata), multicast or reserved address, or to any address of
 * this machine's interfaces, up or down (the podman bridge gateway included), is refused.
 */

/** The class of an address, as far as egress is concerned. */
export type AddressClass = 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'reserved' | 'host' | 'remote';

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(n: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = ipv4Number(base);
  return n >= start && n < start + size;
}

/** Canonical form of an address (IPv4-mapped IPv6 as IPv4); undefined when not an IP address. */
function canonicalAddress(address: string): string | undefined {
  if (isIPv4(address)) return address;
  const v6 = canonicalIpv6(address);
  if (v6 === undefined) return undefined;
  return mappedIpv4(v6) ?? v6;
}

/**
 * Cloud metadata services outside 169.254.0.0/16 and fe80::/10, counted as link-local: AWS's
 * IPv6 endpoint and Alibaba Cloud's.
 */
const METADATA_ADDRESSES = new Set(['fd00:ec2::254', '100.100.100.200']);

/** The IPv4 address inside a NAT64 (64:ff9b::/96) address, else undefined. */
function nat64Ipv4(v6: string): string | undefined {
  const m = /^64:ff9b::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6) ?? /^64:ff9b::([0-9.]+)$/.exec(v6);
  if (!m) return undefined;
  if (m[2] === undefined) return isIPv4(m[1]!) ? m[1] : undefined;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Classifies an address; `hostAddresses` are this machine's own (canonical) addresses. */
export function classifyAddress(address: string, hostAddresses: ReadonlySet<string>): AddressClass {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return 'reserved';
  // A NAT64 address reaches the IPv4 address it embeds (169.254.169.254 as 64:ff9b::a9fe:a9fe).
  const embedded = isIPv4(canonical) ? undefined : nat64Ipv4(canonical);
  if (embedded !== undefined) {
    const inner = classifyAddress(embedded, hostAddresses);
    if (inner !== 'remote') return inner;
  }
  const a = canonical;
  if (METADATA_ADDRESSES.has(a)) return 'link-local';
  if (isIPv4(a)) {
    const n = ipv4Number(a);
    if (inV4(n, '127.0.0.0', 8)) return 'loopback';
    if (inV4(n, '0.0.0.0', 8)) return 'unspecified';
    if (inV4(n, '169.254.0.0', 16)) return 'link-local';
    if (inV4(n, '224.0.0.0', 4)) return 'multicast';
    if (inV4(n, '240.0.0.0', 4)) return 'reserved';
  } else {
    if (a === '::1') return 'loopback';
    if (a === '::') return 'unspecified';
    const first = Number.parseInt(a.split(':')[0] || '0', 16);
    if ((first & 0xffc0) === 0xfe80) return 'link-local';
    if ((first & 0xff00) === 0xff00) return 'multicast';
  }
  return hostAddresses.has(a) ? 'host' : 'remote';
}

/** Why an address class is refused, for people. */
export function refusalText(cls: AddressClass): string {
  switch (cls) {
    case 'loopback':
    case 'unspecified':
    case 'host':
      return 'it resolves to this host; reach host services with host.containers.internal:PORT';
    case 'link-local':
      return 'it resolves to a link-local address (cloud metadata lives there); allow the address itself to reach it';
    case 'multicast':
    case 'reserved':
      return 'it resolves to a multicast or reserved address';
    case 'remote':
      return 'allowed';
  }
}

/**
 * The addresses the proxy may connect to for an allowed destination, in order, and the first
 * refusal when none is left. `literal`: the destination was allowed by a rule naming this very
 * IP address, which may then be link-local (never the host's own or loopback).
 */
export function permittedAddresses(
  addresses: readonly string[],
  hostAddresses: ReadonlySet<string>,
  literal: boolean,
): { addresses: string[]; refused?: AddressClass } {
  const out: string[] = [];
  let refused: AddressClass | undefined;
  for (const address of addresses) {
    const cls = classifyAddress(address, hostAddresses);
    if (cls === 'remote' || (cls === 'link-local' && literal)) out.push(canonicalAddress(address) ?? address);
    else refused ??= cls;
  }
  return out.length > 0 ? { addresses: out } : { addresses: out, refused: refused ?? 'reserved' };
}

/**
 * The local IPv4 addresses in `/proc/net/fib_trie` (the kernel's routing tables): each `/32 host
 * LOCAL` leaf is an address of this host, whether its interface is up or down. (Node's
 * `os.networkInterfaces()` lists only interfaces that are up, so it missed the podman bridge
 * `cni-podman0`, 10.88.0.1, while no bridge container ran: a proxy that trusted it let sessions
 * reach host services listening there.)
 */
export function parseFibTrie(text: string): string[] {
  const out: string[] = [];
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) {
      last = leaf[1];
      continue;
    }
    if (last !== undefined && /^\s*\/32 host LOCAL\s*$/.test(line)) out.push(last);
  }
  return [...new Set(out)];
}

/** The IPv6 addresses in `/proc/net/if_inet6` (every address of every interface, up or down). */
export function parseIfInet6(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{32})\s/i.exec(line.trim());
    if (!m) continue;
    const groups = m[1]!.match(/.{4}/g)!.join(':');
    const a = canonicalAddress(groups);
    if (a !== undefined) out.push(a);
  }
  return out;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Where {@link hostOwnAddresses} reads; tests give their own text. */
export interface HostAddressSources {
  fibTrie: () => string;
  ifInet6: () => string;
  interfaces: () => string[];
}

const PROC_SOURCES: HostAddressSources = {
  fibTrie: () => readProc('/proc/net/fib_trie'),
  ifInet6: () => readProc('/proc/net/if_inet6'),
  interfaces: () =>
    Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((info) => info.address.split('%')[0]!)),
};

/**
 * Every address of every interface of this machine, up or down (canonical): the kernel's local
 * routes and IPv6 address list (two small /proc reads), plus what Node reports.
 */
export function readHostAddresses(sources: HostAddressSources = PROC_SOURCES): Set<string> {
  const set = new Set<string>();
  for (const address of [
    ...parseFibTrie(sources.fibTrie()),
    ...parseIfInet6(sources.ifInet6()),
    ...sources.interfaces(),
  ]) {
    const a = canonicalAddress(address);
    if (a !== undefined) set.add(a);
  }
  return set;
}

let cached: { at: number; set: Set<string> } | undefined;

/** This machine's addresses ({@link readHostAddresses}), refreshed at most every 5 seconds. */
export function hostOwnAddresses(now = Date.now()): Set<string> {
  if (cached && now - cached.at < 5000) return cached.set;
  const set = readHostAddresses();
  cached = { at: now, set };
  return set;
}

/**
 * Refuses allow rules that name an address of this machine (`--network-allow 10.88.0.1:8080`, the
 * podman bridge): the proxy would refuse every connection to it anyway, so the user gets one
 * usage error up front instead. Reads the host's addresses only when a rule is an IP address.
 */
export function refuseHostAddressRules(
  rules: readonly Rule[],
  hostAddresses: () => ReadonlySet<string> = () => hostOwnAddresses(),
): void {
  const literal = rules.filter((r) => r.kind === 'ipv4' || r.kind === 'ipv6');
  if (literal.length === 0) return;
  const own = hostAddresses();
  const hit = literal.find((r) => own.has(r.host));
  if (hit) {
    throw new RuleError(
      formatRule(hit),
      `it names an address of this machine; reach a service on the host with ${HOST_SERVICES_NAME}:PORT`,
    );
  }
}
