import { randomBytes } from 'node:crypto';

/**
 * The seam for credentials that never enter the sandbox. A token needed against one API only
 * (GH_TOKEN for api.github.com) can be marked proxy-only: the session then sees a placeholder in
 * the variable, and the egress proxy (src/network, issue "Network policy that holds") puts the
 * real value into the requests to the allowed hosts, nowhere else. The plan carries the rules
 * (variable, placeholder, hosts, header) as plain data; the real values stay in mino's memory
 * ({@link ProxySplit.values}) for the proxy and are never written anywhere.
 */

/** How the proxy writes the value into a request. */
interface ProxyInjection {
  /** Header to set, e.g. `Authorization`. */
  header: string;
  /** Prefix before the value, e.g. `Bearer ` or `token `; empty for a raw value. */
  prefix: string;
}

/** A credential marked proxy-only, before values are known. */
export interface ProxyOnlyMark extends ProxyInjection {
  /** The variable the sandbox sees (with the placeholder). */
  variable: string;
  /** Hosts (`api.github.com`, `*.example.com`) whose requests get the real value. */
  hosts: string[];
}

/** One rule in the plan: what the proxy must do, with the placeholder it replaces. */
export interface ProxyCredentialRule extends ProxyOnlyMark {
  /** The value the sandbox sees in `variable` (random, not secret). */
  placeholder: string;
}

/** Secret values split between the sandbox and the proxy. */
export interface ProxySplit {
  /** Values that still go into the sandbox. */
  sandbox: Map<string, string>;
  /** Rules for the plan. */
  rules: ProxyCredentialRule[];
  /** placeholder -> real value, for the proxy only. */
  values: Map<string, string>;
}

/** A placeholder for `variable`: recognisable, random, useless outside the proxy. */
export function proxyPlaceholder(variable: string): string {
  return `mino-proxy-managed-${variable.toLowerCase()}-${randomBytes(8).toString('hex')}`;
}

/** Takes the marked variables out of `secret` and makes a rule and placeholder for each one present. */
export function splitProxyOnly(
  secret: ReadonlyMap<string, string>,
  marks: readonly ProxyOnlyMark[],
  placeholder = proxyPlaceholder,
): ProxySplit {
  const sandbox = new Map(secret);
  const rules: ProxyCredentialRule[] = [];
  const values = new Map<string, string>();
  for (const mark of marks) {
    const value = sandbox.get(mark.variable);
    if (value === undefined) continue;
    sandbox.delete(mark.variable);
    const p = placeholder(mark.variable);
    rules.push({ ...mark, hosts: [...mark.hosts], placeholder: p });
    values.set(p, value);
  }
  return { sandbox, rules, values };
}
