import type { Destination } from '../destination.js';
import type { ProxiedCredential } from '../egress-secrets.js';
import { ruleMatches } from '../policy.js';
import { parseRule, type Rule } from '../rule.js';
import { formatDestination } from '../destination.js';
import type { RequestGate, RewritableRequest, RewriterRegistry } from './pipeline.js';

/**
 * Credentials swapped in at the proxy. The sandbox holds placeholders only; for a request to a
 * host a credential is bound to, the proxy replaces that credential's placeholder wherever it
 * appears in a header (raw, or inside HTTP Basic credentials, as git sends them) and, for
 * credentials that add their header, sets it when the request has none. After that, any
 * placeholder still in the request (method, path or a header) is a credential on its way to a
 * host it is not bound to: the request is refused and reported, never sent.
 */

/** Every placeholder starts like this (see credentials/proxy-credential.ts). */
const PLACEHOLDER_MARK = 'mino-proxy-managed-';

/** The rule of a host pattern (`api.github.com`, `*.example.com:8443`; port 443 by default). */
export function credentialHostRule(pattern: string): Rule {
  return parseRule(/:[0-9]+$/.test(pattern) && !pattern.endsWith(']') ? pattern : `${pattern}:443`);
}

interface Bound {
  credential: ProxiedCredential;
  rules: Rule[];
}

function bindAll(credentials: readonly ProxiedCredential[]): Bound[] {
  return credentials.map((credential) => ({ credential, rules: credential.hosts.map(credentialHostRule) }));
}

function basicValue(user: string, value: string): string {
  return `Basic ${Buffer.from(`${user}:${value}`).toString('base64')}`;
}

/** `value` with `placeholder` replaced by `secret`, also inside `Basic` credentials. */
function swapped(value: string, placeholder: string, secret: string): string {
  let out = value.split(placeholder).join(secret);
  const basic = /^(basic\s+)([A-Za-z0-9+/=]+)\s*$/i.exec(out);
  if (basic) {
    const decoded = Buffer.from(basic[2]!, 'base64').toString('utf8');
    if (decoded.includes(placeholder))
      out = `${basic[1]}${Buffer.from(decoded.split(placeholder).join(secret)).toString('base64')}`;
  }
  return out;
}

function applyCredential(request: RewritableRequest, c: ProxiedCredential): void {
  for (const [name, value] of Object.entries(request.headers)) {
    request.headers[name] = Array.isArray(value)
      ? value.map((v) => swapped(v, c.placeholder, c.value))
      : swapped(value, c.placeholder, c.value);
  }
  const header = c.header.toLowerCase();
  if (c.add && request.headers[header] === undefined)
    request.headers[header] = c.basicUser !== undefined ? basicValue(c.basicUser, c.value) : `${c.prefix}${c.value}`;
}

/**
 * Registers the credentials' rewriter for each of their hosts: a request gets every credential
 * bound to its destination. Returns the rules (the hosts to terminate).
 */
export function registerCredentials(registry: RewriterRegistry, credentials: readonly ProxiedCredential[]): Rule[] {
  const bound = bindAll(credentials);
  const rewrite = (request: RewritableRequest): RewritableRequest => {
    for (const b of bound)
      if (b.rules.some((r) => ruleMatches(r, request.dest))) applyCredential(request, b.credential);
    return request;
  };
  const rules = bound.flatMap((b) => b.rules);
  for (const rule of rules) registry.add(rule, rewrite);
  return rules;
}

/** The text of a request a placeholder could hide in. */
function requestTexts(request: RewritableRequest): string[] {
  const texts = [request.method, request.path];
  for (const [name, value] of Object.entries(request.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      texts.push(name, v);
      const basic = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(v);
      if (basic) texts.push(Buffer.from(basic[1]!, 'base64').toString('utf8'));
    }
  }
  return texts;
}

/** Which placeholder a request carries (after the rewrite), if any. */
function placeholderIn(request: RewritableRequest, credentials: readonly ProxiedCredential[]): string | undefined {
  const texts = requestTexts(request);
  // Percent-encoded in a path or query: only a text with a `%` decodes to anything new.
  const decoded = texts
    .filter((t) => t.includes('%'))
    .map((t) => {
      try {
        return decodeURIComponent(t);
      } catch {
        return t;
      }
    });
  for (const c of credentials)
    if (texts.some((t) => t.includes(c.placeholder)) || decoded.some((t) => t.includes(c.placeholder)))
      return c.variable;
  return texts.some((t) => t.toLowerCase().includes(PLACEHOLDER_MARK)) ? 'a mino credential' : undefined;
}

/** The check after the rewrite: a request still carrying a placeholder is refused. */
export function placeholderGuard(credentials: readonly ProxiedCredential[]): RequestGate {
  return (request) => {
    const which = placeholderIn(request, credentials);
    if (which === undefined) return { allow: true };
    const bound = credentials.find((c) => c.variable === which)?.hosts.join(', ');
    return {
      allow: false,
      reason: `the placeholder of ${which} was sent to ${formatDestination(request.dest)}${bound ? `; it is bound to ${bound} only` : ''} (possible exfiltration)`,
    };
  };
}

/** True when `dest` is a host some credential is bound to. */
export function boundToCredential(rules: readonly Rule[]): (dest: Destination) => boolean {
  return (dest) => rules.some((r) => ruleMatches(r, dest));
}

/** What a request body to one destination must not carry: the texts, and why each is refused. */
export interface BodyGuard {
  needles: Buffer[];
  reason(found: number): string;
}

/**
 * The body check of requests to `dest` (undefined: nothing to look for): the placeholders of the
 * credentials not bound to `dest`, and, when none is bound to it, any placeholder at all.
 */
export function placeholderBodyGuard(
  credentials: readonly ProxiedCredential[],
): (dest: Destination) => BodyGuard | undefined {
  const bound = bindAll(credentials);
  const cache = new Map<string, BodyGuard | undefined>();
  return (dest) => {
    const key = formatDestination(dest);
    if (cache.has(key)) return cache.get(key);
    const unbound = bound.filter((b) => !b.rules.some((r) => ruleMatches(r, dest)));
    const texts = unbound.map((b) => ({ text: b.credential.placeholder, which: b.credential }));
    const all = unbound.length === bound.length;
    const needles = [...texts.map((t) => Buffer.from(t.text)), ...(all ? [Buffer.from(PLACEHOLDER_MARK)] : [])];
    const guard: BodyGuard | undefined =
      needles.length === 0
        ? undefined
        : {
            needles,
            reason: (found) => {
              const c = texts[found]?.which;
              return c
                ? `the placeholder of ${c.variable} was sent to ${key} in a request body; it is bound to ${c.hosts.join(', ')} only (possible exfiltration)`
                : `the placeholder of a mino credential was sent to ${key} in a request body (possible exfiltration)`;
            },
          };
    if (cache.size < 1024) cache.set(key, guard);
    return guard;
  };
}
