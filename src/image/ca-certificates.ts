import { createHash } from 'node:crypto';

/**
 * Extra CA certificates of the host (a TLS-intercepting proxy's CA, a corporate root) that image
 * builds and sessions must trust too. Pure functions over PEM text; reading files is the caller's.
 */

/** One certificate: its PEM text (normalised) and a short stable name. */
export interface PemCertificate {
  /** `-----BEGIN CERTIFICATE-----` block with 64-column base64, ending in a newline. */
  pem: string;
  /** First 16 hex of the SHA-256 of the DER bytes, used as the file name. */
  id: string;
}

const BLOCK = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:TRUSTED )?CERTIFICATE-----/g;

/** The certificates in a PEM bundle (other blocks and text between them are ignored). */
export function parsePemBundle(text: string): PemCertificate[] {
  const out: PemCertificate[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[1]!.replace(/[^A-Za-z0-9+/=]/g, '');
    if (body.length === 0) continue;
    const der = Buffer.from(body, 'base64');
    const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
    out.push({
      pem: `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`,
      id: createHash('sha256').update(der).digest('hex').slice(0, 16),
    });
  }
  return out;
}

/**
 * The certificates of `sources` (PEM texts: local CA files, the bundles named by
 * `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, npm's `cafile`) that are not in the distribution's own
 * set (`systemTexts`), without duplicates, in first-seen order.
 */
export function extraCertificates(sources: readonly string[], systemTexts: readonly string[]): PemCertificate[] {
  const system = new Set(systemTexts.flatMap((t) => parsePemBundle(t).map((c) => c.id)));
  const seen = new Set<string>();
  const out: PemCertificate[] = [];
  for (const text of sources) {
    for (const cert of parsePemBundle(text)) {
      if (system.has(cert.id) || seen.has(cert.id)) continue;
      seen.add(cert.id);
      out.push(cert);
    }
  }
  return out;
}
