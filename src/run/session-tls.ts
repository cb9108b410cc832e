import { readFileSync } from 'node:fs';
import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { terminatingBundleText, upstreamTrustText } from '../credentials/host-ca-bundle.js';
import type { ProxyCredentialRule } from '../credentials/proxy-credential.js';
import type { EgressSecrets, ProxiedCredential } from '../network/egress-secrets.js';
import { isCertificatePem } from '../network/proxy/tls-pem.js';

/**
 * The TLS side of a session whose credentials stay outside: a fresh CA for the session (its
 * certificate joins the sandbox's trust bundle; its key goes to the session's proxy only), the
 * credentials the proxy swaps in, and the CAs upstream servers are verified against (the host's
 * trust store and `network.upstream_ca`).
 */

/** Reads `network.upstream_ca`: each file must hold PEM certificates (a usage error otherwise). */
export function readUpstreamCa(paths: readonly string[] | undefined): string[] {
  return (paths ?? []).map((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(
        `network.upstream_ca: cannot read ${printable(path)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        'Name CA certificate files (PEM) that exist and that you can read',
      );
    }
    if (!isCertificatePem(text))
      throw new UsageError(
        `network.upstream_ca: ${printable(path)} is not a PEM certificate`,
        'Name the CA certificate file of your proxy (-----BEGIN CERTIFICATE-----)',
      );
    return text;
  });
}

/** What a session's proxy and sandbox get. */
export interface SessionTls {
  /** For the proxy's stdin. */
  secrets: EgressSecrets;
  /** The sandbox's trust bundle: the host's trust store and the session CA. */
  bundleText: string;
}

/**
 * Makes the session's CA and the proxy's secrets from the gathered rules and values. The
 * certificate library and node's TLS are loaded here, not at start-up (the single executable's
 * start-up snapshot cannot hold them).
 */
export async function sessionTls(
  session: string,
  rules: readonly ProxyCredentialRule[],
  values: ReadonlyMap<string, string>,
  upstreamCa: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<SessionTls> {
  const { createSessionCa } = await import('../network/proxy/tls-ca.js');
  const ca = createSessionCa(session);
  const trust = upstreamTrustText(env);
  return {
    secrets: { version: 1, ca, credentials: proxiedCredentials(rules, values), upstreamCa: [trust, ...upstreamCa] },
    bundleText: terminatingBundleText(trust, ca.certPem),
  };
}

/** The credentials a session's proxy swaps in: the plan's rules with their real values (secret). */
export function proxiedCredentials(
  rules: readonly ProxyCredentialRule[],
  values: ReadonlyMap<string, string>,
): ProxiedCredential[] {
  return rules.map((r) => ({
    variable: r.variable,
    placeholder: r.placeholder,
    value: values.get(r.placeholder) ?? '',
    hosts: [...r.hosts],
    header: r.header.toLowerCase(),
    prefix: r.prefix,
    add: r.add ?? false,
    ...(r.basicUser !== undefined ? { basicUser: r.basicUser } : {}),
  }));
}
