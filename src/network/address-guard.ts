import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { canonicalIpv6, mappedIpv4 } from './rule.js';

/**
 * Which resolved addresses the proxy may connect to. A name that a rule allows can still resolve
 * to the host itself (DNS rebinding, a hostile `/etc/hosts` entry, `*.nip.io`-style names): the
 * proxy runs on the host, so connecting there would hand the sandbox the host's loopback services.
 * Only `host.containers.internal:PORT` rules reach the host; every other connection to a loopback,
 * unspecified, link-local (cloud metadata), multicast or reserved address, or to any address of
 * this machine's interfaces (the podman bridge gateway included), is refused.
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
export function canonicalAddress(address: string): string | undefined {
  if (isIPv4(address)) return address;
  const v6 = canonicalIpv6(address);
  if (v6 === undefined) return undefined;
  return mappedIpv4(v6) ?? v6;
}

/** Classifies an address; `hostAddresses` are this machine's own (canonical) addresses. */
export function classifyAddress(address: string, hostAddresses: ReadonlySet<string>): AddressClass {
  const a = canonicalAddress(address);
  if (a === undefined) return 'reserved';
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

let cached: { at: number; set: Set<string> } | undefined;

/** This machine's interface addresses (canonical), refreshed at most every 5 seconds. */
export function hostOwnAddresses(now = Date.now()): Set<string> {
  if (cached && now - cached.at < 5000) return cached.set;
  const set = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const a = canonicalAddress(info.address.split('%')[0]!);
      if (a !== undefined) set.add(a);
    }
  }
  cached = { at: now, set };
  return set;
}
