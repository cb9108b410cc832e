import { randomBytes } from 'node:crypto';

/**
 * The seam for credentials that never enter the sandbox. A token needed against one API only
 * (GH_TOKEN for api.github.com) can be marked proxy-only: the session then sees a placeholder in
 * the variable, and the egress proxy (src/network, issue "Network policy that holds") puts the
 * real value into the requests to the allowed hosts, nowhere else. The plan carries the rules
 * (variable, placeholder, hosts, header) as plain data; the real values stay in mino's memory
 * ({@link ProxySplit.values}) for the proxy and are never written anywhere.
 */

/**
 * How the proxy writes the value into a request: it always replaces the placeholder wherever a
 * header carries it (raw or inside HTTP Basic credentials); with `add`, it also sets `header`
 * (`prefix` + value, or Basic credentials of `basicUser`) on requests that have none.
 */
interface ProxyInjection {
  /** Header to set, e.g. `Authorization`. */
  header: string;
  /** Prefix before the value, e.g. `Bearer ` or `token `; empty for a raw value. */
  prefix: string;
  /** Set the header on requests without it. */
  add?: boolean;
  /** Set it as HTTP Basic credentials of this user (git over HTTPS). */
  basicUser?: string;
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

/** The credentials that stay outside by default, with the hosts they are for. */
function builtinProxyMarks(githubHost = 'github.com'): ProxyOnlyMark[] {
  const github = (variable: string): ProxyOnlyMark[] =>
    githubHost === 'github.com'
      ? [
          { variable, hosts: ['api.github.com'], header: 'authorization', prefix: 'token ' },
          {
            variable,
            hosts: ['github.com'],
            header: 'authorization',
            prefix: '',
            add: true,
            basicUser: 'x-access-token',
          },
        ]
      : [{ variable, hosts: [githubHost], header: 'authorization', prefix: 'token ' }];
  return [
    // x-api-key, or Authorization: Bearer: the placeholder is replaced in either.
    { variable: 'ANTHROPIC_API_KEY', hosts: ['api.anthropic.com'], header: 'x-api-key', prefix: '' },
    { variable: 'CLAUDE_CODE_OAUTH_TOKEN', hosts: ['api.anthropic.com'], header: 'authorization', prefix: 'Bearer ' },
    { variable: 'OPENAI_API_KEY', hosts: ['api.openai.com'], header: 'authorization', prefix: 'Bearer ' },
    ...github('GH_TOKEN'),
    ...github('GITHUB_TOKEN'),
  ];
}

/**
 * The marks of a session with an egress proxy: the built-in ones, then the user's own
 * (`[credentials.NAME]`: the header added when a request has none), which replace the built-in
 * marks of the same variable.
 */
export function proxyMarks(
  custom: ReadonlyArray<{ variable: string; hosts: readonly string[]; header: string; prefix: string }>,
  githubHost?: string,
): ProxyOnlyMark[] {
  const own = new Set(custom.map((c) => c.variable));
  return [
    ...builtinProxyMarks(githubHost).filter((m) => !own.has(m.variable)),
    ...custom.map((c) => ({
      variable: c.variable,
      hosts: [...c.hosts],
      header: c.header.toLowerCase(),
      prefix: c.prefix,
      add: true,
    })),
  ];
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
  const given = new Map<string, string>();
  for (const mark of marks) {
    // Several marks of one variable (one per way of injecting it) share its placeholder.
    let p = given.get(mark.variable);
    if (p === undefined) {
      const value = sandbox.get(mark.variable);
      if (value === undefined) continue;
      sandbox.delete(mark.variable);
      p = placeholder(mark.variable);
      given.set(mark.variable, p);
      values.set(p, value);
    }
    rules.push({ ...mark, hosts: [...mark.hosts], placeholder: p });
  }
  return { sandbox, rules, values };
}
