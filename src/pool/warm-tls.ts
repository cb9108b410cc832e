import { terminatingBundleText, upstreamTrustText } from '../credentials/host-ca-bundle.js';
import type { EgressSecrets } from '../network/egress-secrets.js';
import { writeWarmCaBundle } from './warm-agent-dir.js';

/**
 * The TLS side of a warm container whose proxy terminates TLS (pool-key.ts terminatesTls): a CA
 * of its own, made when it is warmed, so a run that claims it makes none. The certificate joins
 * the container's trust bundle (a file of its agent directory, mounted where a session's bundle
 * goes); the key goes to the container's proxy only, on its stdin. The proxy starts with no
 * credential: the claiming run hands it its own (network/warm-egress.ts), and the command gets
 * their placeholders when it starts. A warm container never holds a secret before a run claims
 * it, and never one of another run.
 */

/** A warm container's bundle file and its proxy's secrets. */
export interface WarmTls {
  /** Host path of the trust bundle (the host's trust store and the CA). */
  bundle: string;
  /** For the proxy's stdin: the CA and no credential. */
  secrets: EgressSecrets;
}

/**
 * Makes the CA of warm container `name` and writes its bundle (see the module comment);
 * `upstreamCa`: `network.upstream_ca`'s certificates, for the proxy.
 */
export async function makeWarmTls(
  stateDir: string,
  name: string,
  env: NodeJS.ProcessEnv,
  upstreamCa: readonly string[] = [],
): Promise<WarmTls> {
  const { createSessionCa } = await import('../network/proxy/tls-ca.js');
  const ca = createSessionCa(name);
  const trust = upstreamTrustText(env);
  const bundle = writeWarmCaBundle(stateDir, name, terminatingBundleText(trust, ca.certPem));
  return { bundle, secrets: { version: 1, ca, credentials: [], upstreamCa: [trust, ...upstreamCa] } };
}
