import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSessionCa, LeafCertificates } from '../../../../src/network/proxy/tls-ca.js';
import { isCertificatePem } from '../../../../src/network/proxy/tls-pem.js';

describe('session CA', () => {
  const ca = createSessionCa('my session');

  it('is a CA of its own, limited to signing leaves (path length 0)', () => {
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain('mino session CA my_session');
    expect(cert.checkIssued(cert)).toBe(true);
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
