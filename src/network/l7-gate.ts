import { formatDestination, type Destination } from './destination.js';
import { formatL7Rule, gitOperation, matchablePath, methodMatches, pathMatches, type L7Rule } from './l7-rule.js';
import { hasL7Rules, ruleMatches, type EgressPolicy } from './policy.js';
import type { RequestGate, Tunnel, TunnelHandler } from './proxy/pipeline.js';

/**
 * The proxy side of L7 rules, over the LIVE policy (read at every call, so `mino network
 * allow|deny` reaches the next request at once):
 * - `terminates(dest)`: the proxy must see inside this destination's TLS (it has L7 rules);
 * - `gate(request)`: the verdict on one request of such a destination (also for plain HTTP),
 *   recorded in the session's network record for hosts with L7 rules and in learn mode (what
 *   `learn` proposes rules from).
 */

/** Longest path kept in records and messages. */
const MAX_SHOWN_PATH = 200;

/**
 * Why a request was refused: `l7-rule` (a deny rule), `l7-no-rule` (the host has allow rules,
 * none matches), `invalid` (a target the rules cannot judge safely).
 */
type RequestDenial = 'l7-rule' | 'l7-no-rule' | 'invalid';

/** The outcome of {@link judgeRequest}. */
export type RequestJudgement =
  | { allow: true; rule: string | undefined }
  | { allow: false; reason: RequestDenial; detail: string };

/** The L7 rules that apply to a destination (by host and port), in order. */
function l7RulesFor(policy: EgressPolicy, dest: Destination): L7Rule[] {
  return (policy.l7 ?? []).filter((r) => ruleMatches(r.host, dest));
}

/** A request target as shown to people: no query, at most 200 characters, printable. */
function shownPath(target: string): string {
  const path = target.split('?')[0]!;
  // eslint-disable-next-line no-control-regex
  const clean = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_SHOWN_PATH ? `${clean.slice(0, MAX_SHOWN_PATH)}…` : clean;
}

/**
 * Judges a request by the destination's L7 rules: deny rules before allow rules, first match
 * wins; when nothing matches, a host with allow rules denies, a host with only deny rules (or
 * none) allows. A target the rules cannot judge safely (an encoded `/`, a backslash) is denied
 * on a host with rules.
 */
export function judgeRequest(
  policy: EgressPolicy,
  dest: Destination,
  method: string,
  target: string,
): RequestJudgement {
  const rules = l7RulesFor(policy, dest);
  if (rules.length === 0) return { allow: true, rule: undefined };
  const where = `${method} ${formatDestination(dest)}${shownPath(target)}`;
  const p = matchablePath(target);
  if (!p) return { allow: false, reason: 'invalid', detail: `${where}: a path the rules cannot judge safely` };
  const git = gitOperation(p.path, p.query);
  const rule = rules.find((r) => methodMatches(r, method, git) && pathMatches(r.path, p.path));
  if (rule?.action === 'allow') return { allow: true, rule: formatL7Rule(rule) };
  if (rule) return { allow: false, reason: 'l7-rule', detail: `${where}: denied by rule ${formatL7Rule(rule)}` };
  if (rules.some((r) => r.action === 'allow'))
    return { allow: false, reason: 'l7-no-rule', detail: `${where}: no rule allows it` };
  return { allow: true, rule: undefined };
}

/**
 * Where the enforcer reports requests (the proxy's destination log). A refused request is also
 * recorded as a denied destination (`request`: audit log, records) by whoever answers it 403:
 * the terminating handler, or the plain-HTTP path of the proxy.
 */
export interface RequestSink {
  /** A request judged (allowed or not). */
  request(dest: Destination, method: string, path: string, allowed: boolean, rule: string | null): void;
}

/** What the terminating handler and the plain-HTTP path need. */
export interface L7Enforcer {
  /** True when the proxy must terminate this destination's TLS (it has L7 rules now). */
  terminates(dest: Destination): boolean;
  /** The verdict on a request, recorded. */
  gate: RequestGate;
}

/** The enforcer over the live policy `policy()`. */
export function l7Enforcer(policy: () => EgressPolicy, sink?: RequestSink): L7Enforcer {
  return {
    terminates: (dest) => hasL7Rules(policy(), dest),
    gate: (request) => {
      const live = policy();
      const verdict = judgeRequest(live, request.dest, request.method, request.path);
      // Recorded where someone reads them: learn (it proposes rules) and hosts with L7 rules.
      const record = sink !== undefined && (live.mode === 'learn' || hasL7Rules(live, request.dest));
      if (verdict.allow) {
        if (record) sink.request(request.dest, request.method, shownPath(request.path), true, verdict.rule ?? null);
        return { allow: true };
      }
      if (record) sink.request(request.dest, request.method, shownPath(request.path), false, null);
      return { allow: false, reason: verdict.detail };
    },
  };
}

/**
 * The stage after the terminating handler: a tunnel to a destination with L7 rules that nothing
 * terminated (the session has no CA) is refused, never relayed raw, so its requests cannot go
 * unjudged (plain HTTP through CONNECT or SOCKS5 included).
 */
export function unterminatedGuard(
  enforcer: Pick<L7Enforcer, 'terminates'>,
  denied: (dest: Destination, detail: string) => void,
): TunnelHandler {
  return {
    handle(tunnel: Tunnel): boolean {
      if (!enforcer.terminates(tunnel.dest)) return false;
      const detail =
        'its requests are judged by HTTPS rules on method and path, which need this session to terminate TLS';
      denied(tunnel.dest, detail);
      tunnel.failed(`refused: ${detail}`);
      return true;
    },
  };
}
