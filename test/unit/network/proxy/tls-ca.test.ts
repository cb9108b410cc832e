import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createSessionCa, LeafCertificates } from '../../../../src/network/proxy/tls-ca.js';
import { isCertificatePem } from '../../../../src/network/proxy/tls-pem.js';

/** The subject and authority key identifiers of a PEM certificate, hex (read with forge's ASN.1 parser). */
function keyIdentifiers(pem: string): { subject?: string; authority?: string } {
  const { asn1 } = forge;
  const der = forge.pem.decode(pem)[0]!.body;
  const tbs = (asn1.fromDer(der).value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
  const extensions = (
    tbs.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3)!.value as forge.asn1.Asn1[]
  )[0]!.value as forge.asn1.Asn1[];
  const out: { subject?: string; authority?: string } = {};
  for (const ext of extensions) {
    const parts = ext.value as forge.asn1.Asn1[];
    const id = asn1.derToOid(parts[0]!.value as string);
    const inner = asn1.fromDer(parts[parts.length - 1]!.value as string);
    if (id === '2.5.29.14') out.subject = forge.util.bytesToHex(inner.value as string);
    if (id === '2.5.29.35')
      out.authority = forge.util.bytesToHex((inner.value as forge.asn1.Asn1[])[0]!.value as string);
  }
  return out;
}

describe('session CA', () => {
  const ca = createSessionCa('my session');

  it('is a CA of its own, limited to signing leaves (path length 0)', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain('mino session CA my_session');
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    // ECDSA P-256: made in well under a millisecond (an RSA-2048 CA took 0.2 s and more)
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(createPrivateKey(ca.keyPem).asymmetricKeyType).toBe('ec');
  });

  it("names the CA's key in its leaves (subject and authority key identifiers agree)", () => {
    const leaf = new LeafCertificates(ca).issue('api.example.com').certPem;
    const ski = keyIdentifiers(ca.certPem).subject;
    expect(ski).toMatch(/^[0-9a-f]{40}$/);
    expect(keyIdentifiers(leaf).authority).toBe(ski);
    // RFC 5280's method: SHA-1 of the public key's bits (the last 65 bytes of a P-256 SPKI)
    const spki = new X509Certificate(ca.certPem).publicKey.export({ type: 'spki', format: 'der' });
    expect(createHash('sha1').update(spki.subarray(-65)).digest('hex')).toBe(ski);
  });

  it('signs leaves for names and IP addresses, valid for the host only', () => {
    const leaves = new LeafCertificates(ca);
    const caCert = new X509Certificate(ca.certPem);
    const name = new X509Certificate(leaves.issue('api.example.com').certPem);
    expect(name.checkIssued(caCert)).toBe(true);
    expect(name.verify(caCert.publicKey)).toBe(true);
    expect(name.checkHost('api.example.com')).toBe('api.example.com');
    expect(name.checkHost('other.example.com')).toBeUndefined();
    expect(name.ca).toBe(false);
    // ECDSA P-256: made in no time, cheap in every handshake
    expect(name.publicKey.asymmetricKeyType).toBe('ec');
    expect(name.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const ip = new X509Certificate(leaves.issue('203.0.113.7').certPem);
    expect(ip.checkIP('203.0.113.7')).toBe('203.0.113.7');
    expect(new X509Certificate(leaves.issue('2001:db8::1').certPem).checkIP('2001:db8::1')).toBe('2001:db8::1');
    // a name of hexadecimal letters only is still a name
    expect(new X509Certificate(leaves.issue('cafe.bad').certPem).checkHost('cafe.bad')).toBe('cafe.bad');
  });

  it('caches one TLS context per host', () => {
    const leaves = new LeafCertificates(ca);
    expect(leaves.contextFor('a.example')).toBe(leaves.contextFor('A.example'));
  });

  it("refuses a key that is not the certificate's", () => {
    const other = createSessionCa('other');
    expect(() => new LeafCertificates({ certPem: ca.certPem, keyPem: other.keyPem })).toThrow(/does not match/);
  });

  it('tells certificates from other text', () => {
    expect(isCertificatePem(ca.certPem)).toBe(true);
    expect(isCertificatePem(ca.keyPem)).toBe(false);
    expect(isCertificatePem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toBe(false);
  });
});
