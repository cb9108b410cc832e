import { readFileSync } from 'node:fs';

/**
 * What `mino run` hands its session's proxy besides the launch file, through the proxy's stdin (a
 * pipe: never a file, never an argument): the session CA with its key, the credentials the proxy
 * swaps in for their placeholders, and the extra CA certificates upstream servers may be signed
 * by (`network.upstream_ca`). Only the proxy process ever holds these.
 */

/** One credential the proxy puts in place of its placeholder, for its hosts only. */
export interface ProxiedCredential {
  /** The sandbox's variable (for records; not secret). */
  variable: string;
  /** What the sandbox sees (random, not secret). */
  placeholder: string;
  /** The real value (secret). */
  value: string;
  /** Host patterns (`api.github.com`, `*.example.com`, optional `:PORT`, default 443). */
  hosts: string[];
  /** Header the value goes into when the request has none (lower case), e.g. `authorization`. */
  header: string;
  /** Text before the value in that header, e.g. `Bearer `. */
  prefix: string;
  /** Add the header when a request lacks it (else only placeholders are replaced). */
  add: boolean;
  /** Send the value as HTTP Basic credentials with this user name (git over HTTPS). */
  basicUser?: string;
}

/** The secret part of a proxy's input. */
export interface EgressSecrets {
  version: 1;
  /** The session CA (PEM certificate and key); absent when nothing is terminated. */
  ca?: { certPem: string; keyPem: string };
  credentials: ProxiedCredential[];
  /** Extra trusted CAs (PEM) for upstream servers. */
  upstreamCa: string[];
}

/** Serialises secrets for the proxy's stdin. */
export function encodeEgressSecrets(secrets: EgressSecrets): string {
  return JSON.stringify(secrets);
}

/** `value` as credentials (a claim's, control.ts); throws when it is not an array of them. */
export function credentialsOf(value: unknown): ProxiedCredential[] {
  if (!Array.isArray(value)) throw new Error('the credentials are not a list');
  return value.map((c: Partial<ProxiedCredential> | null) => {
    const text = (v: unknown): v is string => typeof v === 'string';
    if (
      !c ||
      !text(c.variable) ||
      !text(c.placeholder) ||
      !text(c.value) ||
      !text(c.header) ||
      !text(c.prefix) ||
      typeof c.add !== 'boolean' ||
      !Array.isArray(c.hosts) ||
      !c.hosts.every(text) ||
      (c.basicUser !== undefined && !text(c.basicUser)) ||
      c.placeholder.length < 16
    )
      throw new Error('a credential of the claim is malformed');
    return {
      variable: c.variable,
      placeholder: c.placeholder,
      value: c.value,
      hosts: [...c.hosts],
      header: c.header,
      prefix: c.prefix,
      add: c.add,
      ...(c.basicUser !== undefined ? { basicUser: c.basicUser } : {}),
    };
  });
}

/** Reads the secrets from a file descriptor (the proxy's stdin) until its end; throws when malformed. */
export function readEgressSecrets(fd: number): EgressSecrets {
  return egressSecretsOf(JSON.parse(readFileSync(fd, 'utf8')));
}

/** `value` as secrets (parsed JSON: a remote proxy's control request); throws when malformed. */
export function egressSecretsOf(value: unknown): EgressSecrets {
  const parsed = value as EgressSecrets | null;
  if (parsed?.version !== 1 || !Array.isArray(parsed.credentials) || !Array.isArray(parsed.upstreamCa))
    throw new Error('the secrets mino run passed are not of this mino version');
  return parsed;
}
