import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Egress rules: `host:port`, `[v6addr]:port`, `*.example.com:port` and `host.containers.internal:port`.
 *
 * - A rule names one host and one port (1–65535). Host names are matched case-insensitively,
 *   with or without a trailing dot.
 * - `*.example.com` matches every name below example.com, at any depth (`a.example.com`,
 *   `a.b.example.com`), but NOT the apex `example.com` itself: list it separately. `*` is only
 *   allowed as the whole first label.
 * - `host.containers.internal:PORT` is the one way to reach a service on the host's loopback
 *   (a local model server, a dev database). No other rule, wildcard or address ever reaches the
 *   host: `localhost`, loopback and unspecified addresses are refused here, and the proxy refuses
 *   any name that resolves to an address of the host.
 */

/**
 * Why a credential's host pattern (`api.example.com`, `*.example.com`, optional `:PORT`) is
 * unusable, or undefined. Patterns that match too much (`*`, a wildcard over a top-level domain)
 * and addresses are refused: a credential is for named services (`host.containers.internal:PORT`
 * included: a service on the host).
 */
export function credentialHostProblem(pattern: string): string | undefined {
  const withPort = /:[0-9]+$/.test(pattern) ? pattern : `${pattern}:443`;
  if (!isValidRule(withPort)) return 'not a host pattern';
  const rule = parseRule(withPort);
  if (rule.kind === 'host-service') return undefined; // a service on this host, e.g. a local model gateway
  if (rule.kind !== 'name' && rule.kind !== 'wildcard') return 'a credential is bound to named hosts only';
  if (rule.kind === 'wildcard' && rule.host.split('.').length < 3) return 'the pattern matches too much';
  return undefined;
}

/** The name under which a session reaches services listening on the host's loopback. */
export const HOST_SERVICES_NAME = 'host.containers.internal';

/** What a rule's host is. */
type RuleKind = 'name' | 'wildcard' | 'ipv4' | 'ipv6' | 'host-service';

/** One parsed rule. */
export interface Rule {
  kind: RuleKind;
  /**
   * Canonical host: lower-case name without trailing dot, `*.suffix` for wildcards, a dotted
   * IPv4 address, or a canonical (compressed, lower-case) IPv6 address without brackets.
   */
  host: string;
  port: number;
}

/** A malformed rule (exit 2, naming the rule). */
export class RuleError extends UsageError {
  constructor(
    readonly rule: string,
    why: string,
  ) {
    super(
      `Invalid network rule '${printable(rule)}': ${why}`,
      'Write HOST:PORT, e.g. github.com:443, *.example.com:443, [2001:db8::1]:22 or host.containers.internal:11434',
    );
    this.name = 'RuleError';
  }
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/** Canonical text of an IPv6 address (compressed, lower case), or undefined when it is not one. */
export function canonicalIpv6(address: string): string | undefined {
  if (!isIPv6(address) || address.includes('%')) return undefined;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`), else undefined. */
export function mappedIpv4(ipv6: string): string | undefined {
  const canonical = canonicalIpv6(ipv6);
  if (canonical === undefined) return undefined;
  const m = /^::ffff:(?:([0-9.]+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(canonical);
  if (!m) return undefined;
  if (m[1] !== undefined) return isIPv4(m[1]) ? m[1] : undefined;
  const hi = Number.parseInt(m[2]!, 16);
  const lo = Number.parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for the loopback, "this host" and unspecified addresses a rule may never name. */
function isLoopbackLiteral(kind: 'ipv4' | 'ipv6', address: string): boolean {
  if (kind === 'ipv4') return address.startsWith('127.') || address.startsWith('0.');
  if (address === '::1' || address === '::') return true;
  const v4 = mappedIpv4(address);
  return v4 !== undefined && isLoopbackLiteral('ipv4', v4);
}

/**
 * Checks a host name (already lower-cased, trailing dot removed): DNS labels of letters, digits,
 * `_` and `-`, at most 253 characters, and a last label that is not all digits (`1.2.3` or
 * `2130706433` would be read as an IPv4 address by the resolver). Returns the reason it is not.
 */
export function hostNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'the host name is longer than 253 characters';
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') return 'the host name has an empty label (two dots in a row, or a leading dot)';
    if (!LABEL.test(label))
      return `'${printable(label)}' is not a valid host name label (letters, digits, '-' and '_', at most 63)`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return 'it looks like an IP address but is not a valid one';
  return undefined;
}

function parsePort(rule: string, text: string): number {
  if (text === '') throw new RuleError(rule, 'no port after the colon');
  if (!/^[0-9]+$/.test(text)) throw new RuleError(rule, `port '${printable(text)}' is not a number`);
  const port = Number(text);
  if (!PORT.test(text) || port < 1 || port > 65535)
    throw new RuleError(rule, `port ${printable(text)} is out of range (1-65535)`);
  return port;
}

function refuseHostAccess(rule: string): never {
  throw new RuleError(
    rule,
    `it names this machine's own loopback; reach a service on the host with ${HOST_SERVICES_NAME}:PORT`,
  );
}

/**
 * Parses one rule. Throws a {@link RuleError} (a UsageError, exit 2) naming the rule and what is
 * wrong: no port, port 0 or above 65535, `*` anywhere but the whole first label, an IPv6 address
 * without brackets, an empty host, spaces, a scheme, or a loopback host.
 */
export function parseRule(text: string): Rule {
  if (text === '') throw new RuleError(text, 'the rule is empty');
  if (/\s/.test(text)) throw new RuleError(text, 'it contains a space');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new RuleError(text, 'it contains a control character');
  if (text.includes('://')) throw new RuleError(text, 'write HOST:PORT without a scheme');
  if (text.includes('/')) throw new RuleError(text, "a rule has no path ('/')");

  if (text.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
    if (!m) throw new RuleError(text, 'expected [IPV6-ADDRESS]:PORT');
    if (m[2] === undefined) throw new RuleError(text, 'no port (write [ADDRESS]:PORT)');
    if (m[1] === '') throw new RuleError(text, 'the host is empty');
    const address = canonicalIpv6(m[1]!);
    if (address === undefined) throw new RuleError(text, `'${printable(m[1]!)}' is not an IPv6 address`);
    const port = parsePort(text, m[2]);
    if (isLoopbackLiteral('ipv6', address)) refuseHostAccess(text);
    const v4 = mappedIpv4(address);
    return v4 === undefined ? { kind: 'ipv6', host: address, port } : { kind: 'ipv4', host: v4, port };
  }

  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new RuleError(text, 'no port (write HOST:PORT, e.g. github.com:443)');
  const rawHost = text.slice(0, colon);
  if (rawHost.includes(':')) {
    throw new RuleError(
      text,
      canonicalIpv6(rawHost) !== undefined || canonicalIpv6(text) !== undefined
        ? `IPv6 addresses need brackets: [${printable(rawHost)}]:PORT`
        : "the host contains a ':'",
    );
  }
  if (rawHost === '') throw new RuleError(text, 'the host is empty');
  const port = parsePort(text, text.slice(colon + 1));
  let host = rawHost.toLowerCase();
  if (host.endsWith('.') && host.length > 1) host = host.slice(0, -1);

  if (host.includes('*')) {
    if (host === '*')
      throw new RuleError(
        text,
        "'*' alone would allow every host; name a domain (*.example.com) or use --network learn",
      );
    if (!host.startsWith('*.') || host.indexOf('*', 1) >= 0) {
      throw new RuleError(text, "'*' is only allowed as the whole first label, as in *.example.com:443");
    }
    const suffix = host.slice(2);
    const problem = hostNameProblem(suffix);
    if (problem) throw new RuleError(text, problem);
    if (suffix === 'localhost' || suffix.endsWith('.localhost')) refuseHostAccess(text);
    return { kind: 'wildcard', host, port };
  }
  if (isIPv4(host)) {
    if (isLoopbackLiteral('ipv4', host)) refuseHostAccess(text);
    return { kind: 'ipv4', host, port };
  }
  const problem = hostNameProblem(host);
  if (problem) throw new RuleError(text, problem);
  if (host === 'localhost' || host.endsWith('.localhost')) refuseHostAccess(text);
  if (host === HOST_SERVICES_NAME) return { kind: 'host-service', host, port };
  return { kind: 'name', host, port };
}

/** The rule as users write it (`host:port`, `[v6]:port`). */
export function formatRule(rule: Rule): string {
  return rule.kind === 'ipv6' ? `[${rule.host}]:${rule.port}` : `${rule.host}:${rule.port}`;
}

/**
 * Parses rule arguments: each value may hold several rules separated by commas
 * (`--network-allow a:443,b:22`). Duplicates are dropped (first kept). Throws on the first bad rule.
 */
export function parseRules(values: readonly string[]): Rule[] {
  const out: Rule[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    for (const part of value.split(',')) {
      const rule = parseRule(part);
      const key = formatRule(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rule);
    }
  }
  return out;
}

/** True when a config value is a valid rule (for the schema). */
export function isValidRule(text: string): boolean {
  try {
    parseRule(text);
    return true;
  } catch {
    return false;
  }
}
