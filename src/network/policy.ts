import type { Destination } from './destination.js';
import { formatL7Rule, parseAnyRules, sameL7Target, type L7Rule, type ParsedRules } from './l7-rule.js';
import { HOST_SERVICES_NAME, formatRule, type Rule } from './rule.js';

/**
 * The egress policy of a session, as plain data (it travels in the run plan, the proxy's launch
 * file and the session's network record), and the name-level decision on one destination. The
 * decision never resolves a name: names no rule allows are never looked up, so a denied name
 * cannot leak through DNS either. Addresses a name resolves to are checked afterwards
 * (address-guard.ts).
 */

/** `allowlist`: only what the rules allow. `learn`: everything (but the host), recorded. */
export type EgressMode = 'allowlist' | 'learn';

/**
 * The policy in force for one session. Deny rules win over allow rules and over learn. L7 rules
 * (l7-rule.ts) are kept deny rules first, then allow rules, and judged first match wins; an L7
 * allow rule also allows its host and port (the connection), so its requests can be judged.
 */
export interface EgressPolicy {
  mode: EgressMode;
  allow: Rule[];
  deny: Rule[];
  l7?: readonly L7Rule[];
}

/**
 * Why a destination was refused. `request`: one request of a terminated connection refused (L7
 * rule, Host of another destination); `credential-leak`: a credential placeholder sent to a host
 * it is not bound to.
 */
export type DenyReason =
  | 'no-rule'
  | 'deny-rule'
  | 'host-service'
  | 'host-address'
  | 'invalid'
  | 'request'
  | 'credential-leak';

/** The outcome of {@link decide}. */
export type Verdict =
  | {
      allowed: true /** The allowing rule (`learn` in learn mode). */;
      rule: string;
      hostService: boolean /** Allowed by an IP-address rule. */;
      literal: boolean;
    }
  | { allowed: false; reason: DenyReason /** Text for people. */; detail: string };

/** True when `rule` covers `dest` (host and port). */
export function ruleMatches(rule: Rule, dest: Destination): boolean {
  if (rule.port !== dest.port) return false;
  switch (rule.kind) {
    case 'host-service':
      return dest.kind === 'name' && dest.host === HOST_SERVICES_NAME;
    case 'name':
      return dest.kind === 'name' && dest.host === rule.host;
    case 'wildcard':
      // `*.example.com` never matches example.com itself, and no wildcard reaches the host.
      return dest.kind === 'name' && dest.host !== HOST_SERVICES_NAME && dest.host.endsWith(rule.host.slice(1));
    case 'ipv4':
    case 'ipv6':
      return dest.kind === rule.kind && dest.host === rule.host;
  }
}

/** True when the policy has L7 rules for a destination (its requests are judged, its TLS terminated). */
export function hasL7Rules(policy: EgressPolicy, dest: Destination): boolean {
  return (policy.l7 ?? []).some((r) => ruleMatches(r.host, dest));
}

/** Decides on a destination by name and port (no DNS). */
export function decide(policy: EgressPolicy, dest: Destination): Verdict {
  const denying = policy.deny.find((r) => ruleMatches(r, dest));
  if (denying) return { allowed: false, reason: 'deny-rule', detail: `denied by rule ${formatRule(denying)}` };
  const l7Allow = (policy.l7 ?? []).filter((r) => r.action === 'allow');
  if (dest.kind === 'name' && dest.host === HOST_SERVICES_NAME) {
    const rule = policy.allow.find((r) => r.kind === 'host-service' && r.port === dest.port);
    const l7 = rule ? undefined : l7Allow.find((r) => r.host.kind === 'host-service' && r.host.port === dest.port);
    return rule || l7
      ? { allowed: true, rule: rule ? formatRule(rule) : formatL7Rule(l7!), hostService: true, literal: false }
      : {
          allowed: false,
          reason: 'host-service',
          detail: `host services need their own rule (${HOST_SERVICES_NAME}:${dest.port})`,
        };
  }
  const rule = policy.allow.find((r) => ruleMatches(r, dest));
  if (rule)
    return {
      allowed: true,
      rule: formatRule(rule),
      hostService: false,
      literal: rule.kind === 'ipv4' || rule.kind === 'ipv6',
    };
  const l7 = l7Allow.find((r) => ruleMatches(r.host, dest));
  if (l7)
    return {
      allowed: true,
      rule: formatL7Rule(l7),
      hostService: false,
      literal: l7.host.kind === 'ipv4' || l7.host.kind === 'ipv6',
    };
  if (policy.mode === 'learn') return { allowed: true, rule: 'learn', hostService: false, literal: false };
  return { allowed: false, reason: 'no-rule', detail: 'no rule allows it' };
}

function sameRule(a: Rule, b: Rule): boolean {
  return a.kind === b.kind && a.host === b.host && a.port === b.port;
}

/**
 * L7 rules with `rules` added as `action`: the same target given the other action is dropped;
 * deny rules stay before allow rules (new ones at the end of their group).
 */
function withL7(current: readonly L7Rule[], rules: readonly L7Rule[], action: 'allow' | 'deny'): L7Rule[] {
  const kept = current.filter((c) => !rules.some((r) => sameL7Target(c, r)));
  const added = rules.map((r) => ({ ...r, action }));
  return [
    ...kept.filter((r) => r.action === 'deny'),
    ...(action === 'deny' ? added : []),
    ...kept.filter((r) => r.action === 'allow'),
    ...(action === 'allow' ? added : []),
  ];
}

/**
 * The policy with `rules` allowed: added to the allow list and removed from the deny list (L7
 * rules likewise).
 */
export function withAllowed(policy: EgressPolicy, rules: readonly Rule[], l7: readonly L7Rule[] = []): EgressPolicy {
  const allow = [...policy.allow];
  for (const r of rules) if (!allow.some((a) => sameRule(a, r))) allow.push(r);
  return {
    ...policy,
    allow,
    deny: policy.deny.filter((d) => !rules.some((r) => sameRule(d, r))),
    ...(l7.length > 0 || policy.l7 ? { l7: withL7(policy.l7 ?? [], l7, 'allow') } : {}),
  };
}

/**
 * The policy with `rules` denied: removed from the allow list and added to the deny list (L7
 * rules likewise).
 */
export function withDenied(policy: EgressPolicy, rules: readonly Rule[], l7: readonly L7Rule[] = []): EgressPolicy {
  const deny = [...policy.deny];
  for (const r of rules) if (!deny.some((d) => sameRule(d, r))) deny.push(r);
  return {
    ...policy,
    deny,
    allow: policy.allow.filter((a) => !rules.some((r) => sameRule(a, r))),
    ...(l7.length > 0 || policy.l7 ? { l7: withL7(policy.l7 ?? [], l7, 'deny') } : {}),
  };
}

/** The policy with parsed rules of both kinds allowed or denied. */
export function withRules(policy: EgressPolicy, op: 'allow' | 'deny', rules: ParsedRules): EgressPolicy {
  return op === 'allow' ? withAllowed(policy, rules.hosts, rules.l7) : withDenied(policy, rules.hosts, rules.l7);
}

/** The policy as JSON-friendly rule strings. */
export interface PolicyText {
  mode: EgressMode;
  allow: string[];
  deny: string[];
}

/** {@link EgressPolicy} → {@link PolicyText} (HOST:PORT rules first, then L7 rules). */
export function policyText(policy: EgressPolicy): PolicyText {
  const l7 = policy.l7 ?? [];
  const of = (action: 'allow' | 'deny'): string[] => l7.filter((r) => r.action === action).map(formatL7Rule);
  return {
    mode: policy.mode,
    allow: [...policy.allow.map(formatRule), ...of('allow')],
    deny: [...policy.deny.map(formatRule), ...of('deny')],
  };
}

/** {@link PolicyText} → {@link EgressPolicy}; throws on a rule that does not parse. */
export function policyOf(text: PolicyText): EgressPolicy {
  const allow = parseAnyRules(text.allow, 'allow');
  const deny = parseAnyRules(text.deny, 'deny');
  const l7 = [...deny.l7, ...allow.l7];
  return { mode: text.mode, allow: allow.hosts, deny: deny.hosts, ...(l7.length > 0 ? { l7 } : {}) };
}
