import type { Destination } from './destination.js';
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

/** The policy in force for one session. Deny rules win over allow rules and over learn. */
export interface EgressPolicy {
  mode: EgressMode;
  allow: Rule[];
  deny: Rule[];
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

/** Decides on a destination by name and port (no DNS). */
export function decide(policy: EgressPolicy, dest: Destination): Verdict {
  const denying = policy.deny.find((r) => ruleMatches(r, dest));
  if (denying) return { allowed: false, reason: 'deny-rule', detail: `denied by rule ${formatRule(denying)}` };
  if (dest.kind === 'name' && dest.host === HOST_SERVICES_NAME) {
    const rule = policy.allow.find((r) => r.kind === 'host-service' && r.port === dest.port);
    return rule
      ? { allowed: true, rule: formatRule(rule), hostService: true, literal: false }
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
  if (policy.mode === 'learn') return { allowed: true, rule: 'learn', hostService: false, literal: false };
  return { allowed: false, reason: 'no-rule', detail: 'no rule allows it' };
}

function sameRule(a: Rule, b: Rule): boolean {
  return a.kind === b.kind && a.host === b.host && a.port === b.port;
}

/** The policy with `rules` allowed: added to the allow list and removed from the deny list. */
export function withAllowed(policy: EgressPolicy, rules: readonly Rule[]): EgressPolicy {
  const allow = [...policy.allow];
  for (const r of rules) if (!allow.some((a) => sameRule(a, r))) allow.push(r);
  return { ...policy, allow, deny: policy.deny.filter((d) => !rules.some((r) => sameRule(d, r))) };
}

/** The policy with `rules` denied: removed from the allow list and added to the deny list. */
export function withDenied(policy: EgressPolicy, rules: readonly Rule[]): EgressPolicy {
  const deny = [...policy.deny];
  for (const r of rules) if (!deny.some((d) => sameRule(d, r))) deny.push(r);
  return { ...policy, deny, allow: policy.allow.filter((a) => !rules.some((r) => sameRule(a, r))) };
}

/** The policy as JSON-friendly rule strings. */
export interface PolicyText {
  mode: EgressMode;
  allow: string[];
  deny: string[];
}

/** {@link EgressPolicy} → {@link PolicyText}. */
export function policyText(policy: EgressPolicy): PolicyText {
  return { mode: policy.mode, allow: policy.allow.map(formatRule), deny: policy.deny.map(formatRule) };
}
