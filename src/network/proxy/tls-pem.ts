import { X509Certificate } from 'node:crypto';

/**
 * Checks on PEM text, without node-forge (so `mino run` can check `network.upstream_ca` before
 * anything starts without loading the certificate library; tls-ca.ts loads it only when a session
 * needs a CA).
 */

/** True when `pem` holds at least one X.509 certificate and every certificate block parses. */
export function isCertificatePem(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}
