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

/** Reads the secrets from a file descriptor (the proxy's stdin) until its end; throws when malformed. */
export function readEgressSecrets(fd: number): EgressSecrets {
  const parsed = JSON.parse(readFileSync(fd, 'utf8')) as EgressSecrets;
  if (parsed?.version !== 1 || !Array.isArray(parsed.credentials) || !Array.isArray(parsed.upstreamCa))
    throw new Error('the secrets mino run passed are not of this mino version');
  return parsed;
}
