import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { formatRule, parseRule, type Rule } from './rule.js';

/**
 * HTTPS rules on method and path (L7 rules), for hosts whose TLS the proxy terminates:
 * `METHODS HOST[:PORT]/PATH`, e.g. `GET,HEAD api.github.com/repos/OWNER/*` or
 * `GIT-FETCH github.com/OWNER/*`.
 *
 * - METHODS: `*` (any), or a comma-separated list of HTTP methods (GET HEAD POST PUT PATCH DELETE
 *   OPTIONS TRACE) and git smart-HTTP operations: `GIT-FETCH` (clone, fetch, pull:
 *   `info/refs?service=git-upload-pack` and `POST …/git-upload-pack`) and `GIT-PUSH`
 *   (`info/refs?service=git-receive-pack` and `POST …/git-receive-pack`). Case-insensitive.
 * - HOST[:PORT]: as in a HOST:PORT rule (rule.ts), the port 443 when left out.
 * - PATH: starts with `/`; `*` matches any run of characters, `/` included; matched against the
 *   request's path without its query, after `.`/`..` segments were resolved.
 * A rule is allowed or denied by where it is given (`--network-allow`, `mino network deny`).
 */

/** HTTP methods a rule may name. */
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;
/** Git smart-HTTP operations a rule may name. */
const GIT_OPERATIONS = ['GIT-FETCH', 'GIT-PUSH'] as const;

/** What an L7 rule does. */
export type L7Action = 'allow' | 'deny';

/** One parsed L7 rule. */
export interface L7Rule {
  action: L7Action;
  /** Upper-case methods and git operations, or `*` for any. */
  methods: readonly string[] | '*';
  /** The host and port (a HOST:PORT rule). */
  host: Rule;
  /** The path pattern, starting with `/`, `*` a wildcard. */
  path: string;
}

const L7_HINT =
  "Write METHODS HOST[:PORT]/PATH, e.g. 'GET,HEAD api.github.com/repos/OWNER/*' or 'GIT-FETCH github.com/*' (methods: *, GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, GIT-FETCH, GIT-PUSH)";

/** A malformed L7 rule (exit 2, naming the rule). */
export class L7RuleError extends UsageError {
  constructor(rule: string, why: string) {
    super(`Invalid network rule '${printable(rule)}': ${why}`, L7_HINT);
    this.name = 'L7RuleError';
  }
}

/** True when a rule text is an L7 rule (it has methods before a space, or a path). */
export function isL7RuleText(text: string): boolean {
  return /\s/.test(text.trim()) || (!text.startsWith('[') ? text.includes('/') : /\]:?[0-9]*\//.test(text));
}

/** Characters a path pattern may hold (RFC 3986 pchar and `/`, without `,` which separates rules). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+;=:@/%]*$/;

function parseMethods(rule: string, text: string): readonly string[] | '*' {
  if (text === '*') return '*';
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const m = raw.toUpperCase();
    if (m === '') throw new L7RuleError(rule, 'an empty method in the method list');
    if (m === '*') throw new L7RuleError(rule, "'*' stands alone (any method), not in a list");
    if (!(HTTP_METHODS as readonly string[]).includes(m) && !(GIT_OPERATIONS as readonly string[]).includes(m))
      throw new L7RuleError(rule, `'${printable(raw)}' is not a method this rule can name`);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

function checkPath(rule: string, path: string): string {
  if (!path.startsWith('/')) throw new L7RuleError(rule, 'the path must start with /');
  if (path.includes('?') || path.includes('#'))
    throw new L7RuleError(rule, 'a path pattern has no query or fragment (it is matched against the path only)');
  if (!PATH_CHARS.test(path)) throw new L7RuleError(rule, 'the path holds characters a URL path cannot');
  if (/%(?![0-9A-Fa-f]{2})/.test(path))
    throw new L7RuleError(rule, "a '%' in the path is not followed by two hex digits");
  if (path.split('/').some((s) => s === '.' || s === '..'))
    throw new L7RuleError(rule, "the path has a '.' or '..' segment (requests are matched with those resolved)");
  if (path.includes('**')) return path.replace(/\*+/g, '*');
  return path;
}

/** Parses one L7 rule given with `action`; throws an {@link L7RuleError} (exit 2). */
export function parseL7Rule(text: string, action: L7Action = 'allow'): L7Rule {
  const trimmed = text.trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new L7RuleError(text, 'it contains a control character');
  if (trimmed.includes('://')) throw new L7RuleError(text, 'write the host and path without a scheme');
  const parts = trimmed.split(/\s+/);
  if (parts.length === 1) throw new L7RuleError(text, 'no methods before the host (write * for any method)');
  if (parts.length > 2) throw new L7RuleError(text, 'expected METHODS, one space, then HOST[:PORT]/PATH');
  const methods = parseMethods(text, parts[0]!);
  const target = parts[1]!;
  const slash = target.startsWith('[') ? target.indexOf('/', target.indexOf(']') + 1) : target.indexOf('/');
  if (slash < 0) throw new L7RuleError(text, 'no path after the host (write HOST/* for every path)');
  const hostPart = target.slice(0, slash);
  const path = checkPath(text, target.slice(slash));
  const withPort = /:[0-9]*$/.test(hostPart) && !hostPart.endsWith(']') ? hostPart : `${hostPart}:443`;
  let host: Rule;
  try {
    host = parseRule(withPort);
  } catch (err) {
    throw new L7RuleError(text, (err as Error).message.replace(/^Invalid network rule '[^']*': /, ''));
  }
  return { action, methods, host, path };
}

/** The rule as users write it (the port left out when it is 443). */
export function formatL7Rule(rule: L7Rule): string {
  const host = rule.host.kind === 'ipv6' ? `[${rule.host.host}]` : rule.host.host;
  const port = rule.host.port === 443 ? '' : `:${rule.host.port}`;
  return `${rule.methods === '*' ? '*' : rule.methods.join(',')} ${host}${port}${rule.path}`;
}

/** Both kinds of rules, parsed from rule arguments. */
export interface ParsedRules {
  /** HOST:PORT rules. */
  hosts: Rule[];
  /** L7 rules, in the order given. */
  l7: L7Rule[];
}

/**
 * Splits rule arguments on commas, keeping a method list together with its rule:
 * `GET,HEAD api.github.com/*,github.com:22` is two rules.
 */
export function splitRuleValues(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    let pending = '';
    for (const part of value.split(',')) {
      const piece = part.trim();
      if (/^(\*|[A-Za-z-]+)$/.test(piece) && !piece.includes('.')) {
        // A bare method: the rest of its list and its host follow after the next comma.
        pending = pending === '' ? piece : `${pending},${piece}`;
        continue;
      }
      out.push(pending === '' ? piece : `${pending},${piece}`);
      pending = '';
    }
    if (pending !== '') out.push(pending);
  }
  return out;
}

/**
 * Parses rule arguments of both kinds (each value may hold several comma-separated rules);
 * duplicates are dropped (first kept). Throws on the first bad rule.
 */
export function parseAnyRules(values: readonly string[], action: L7Action = 'allow'): ParsedRules {
  const hosts: Rule[] = [];
  const l7: L7Rule[] = [];
  const seen = new Set<string>();
  for (const text of splitRuleValues(values)) {
    if (isL7RuleText(text)) {
      const rule = parseL7Rule(text, action);
      const key = formatL7Rule(rule);
      if (!seen.has(key)) l7.push(rule);
      seen.add(key);
    } else {
      const rule = parseRule(text);
      const key = `${rule.kind === 'ipv6' ? `[${rule.host}]` : rule.host}:${rule.port}`;
      if (!seen.has(key)) hosts.push(rule);
      seen.add(key);
    }
  }
  return { hosts, l7 };
}

/** Rules of both kinds as users write them (HOST:PORT rules first). */
export function formatAnyRules(rules: ParsedRules): string[] {
  return [...rules.hosts.map(formatRule), ...rules.l7.map(formatL7Rule)];
}

/** True when a config value is a valid rule of either kind (for the schema). */
export function isValidAnyRule(text: string): boolean {
  try {
    parseAnyRules([text]);
    return true;
  } catch {
    return false;
  }
}

/** Same methods, host and path (the action aside). */
export function sameL7Target(a: L7Rule, b: L7Rule): boolean {
  return formatL7Rule({ ...a, action: 'allow' }) === formatL7Rule({ ...b, action: 'allow' });
}

/** The git smart-HTTP operation of a request, from its path and query; undefined for other requests. */
export function gitOperation(path: string, query: string): 'GIT-FETCH' | 'GIT-PUSH' | undefined {
  if (path.endsWith('/git-receive-pack')) return 'GIT-PUSH';
  if (path.endsWith('/git-upload-pack')) return 'GIT-FETCH';
  if (path.endsWith('/info/refs')) {
    const service = new URLSearchParams(query).getAll('service');
    if (service.includes('git-receive-pack')) return 'GIT-PUSH';
    if (service.includes('git-upload-pack')) return 'GIT-FETCH';
  }
  return undefined;
}

/** A request path split for matching; undefined when it cannot be matched safely. */
export interface MatchablePath {
  /** Path with dot segments resolved, no query. */
  path: string;
  query: string;
}

/**
 * Normalizes a request target (origin form) for matching: dot segments resolved (also written as
 * `%2e`), query split off. Undefined for targets a server might read differently from this proxy:
 * not starting with `/`, an encoded `/` or `\`, a backslash, or a control character.
 */
export function matchablePath(target: string): MatchablePath | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f\\]/.test(target) || /%(2f|5c|00)/i.test(target)) return undefined;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1).split('#')[0]!;
  let path: string;
  try {
    path = new URL(rawPath.split('#')[0]!, 'http://x').pathname;
  } catch {
    return undefined;
  }
  return { path, query };
}

const patternCache = new Map<string, RegExp>();

/** True when the path pattern matches a normalized path. */
export function pathMatches(pattern: string, path: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      's',
    );
    if (patternCache.size < 10_000) patternCache.set(pattern, re);
  }
  return re.test(path);
}

/** True when the rule's methods cover a request with this method (and git operation). */
export function methodMatches(rule: L7Rule, method: string, git: string | undefined): boolean {
  if (rule.methods === '*') return true;
  return rule.methods.includes(method) || (git !== undefined && rule.methods.includes(git));
}
