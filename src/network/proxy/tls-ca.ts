import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_CIPHERS, createSecureContext, type SecureContext } from 'node:tls';
import forge from 'node-forge';

/**
 * The per-session certificate authority of the TLS-terminating proxy. `mino run` makes it (the
 * certificate goes into the sandbox's trust bundle, the key only to the session's proxy, through
 * a pipe: never on disk, never in the sandbox); the proxy signs one leaf certificate per host it
 * terminates, cached in memory. Keys are made by node's crypto (native, fast); certificates are
 * built with node-forge (no hand-written ASN.1) and signed natively. The CA is RSA-2048; every
 * leaf shares one ECDSA P-256 key pair made when the proxy starts, so a new host costs one
 * signature, not a key generation.
 */

/** A session CA: PEM certificate and PEM (PKCS#1) private key. The key is a secret. */
export interface SessionCa {
  certPem: string;
  keyPem: string;
}

/**
 * Ciphers offered to the sandbox's clients: node's defaults first (modern clients pick them), then
 * older ones, and security level 0 for small clients such as BusyBox's, which sign handshakes
 * with SHA-1 only. This TLS never leaves the sandbox's own loopback; upstream TLS keeps node's
 * defaults.
 */
const CLIENT_CIPHERS = `${DEFAULT_CIPHERS}:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:@SECLEVEL=0`;

/** How long a session CA (and its leaves) stays valid. */
const VALIDITY_DAYS = 30;
/** Leaves and the CA start an hour in the past: clocks inside and outside may differ a little. */
const BACKDATE_MS = 60 * 60_000;

function randomSerial(): string {
  // Positive (high bit clear), 16 bytes.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** Index of subjectPublicKeyInfo in a v3 TBSCertificate (version, serial, signature, issuer, validity, subject). */
const SPKI_INDEX = 6;

/** forge's to-be-signed part of a certificate (public in forge, missing from its types). */
function tbsOf(cert: forge.pki.Certificate): forge.asn1.Asn1 {
  return (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(
    cert,
  );
}

/**
 * Signs `cert` with node's crypto (RSA, SHA-256): forge builds the to-be-signed part, the native
 * signature is ~50 times faster than forge's own JavaScript RSA.
 */
function signNative(cert: forge.pki.Certificate, key: KeyObject | string): void {
  const oid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  const tbs = forge.asn1.toDer(tbsOf(cert)).getBytes();
  cert.signature = sign('sha256', Buffer.from(tbs, 'binary'), key).toString('binary');
}

/** Makes a fresh CA for one session (`label` goes into its name, e.g. the session name). */
export function createSessionCa(label: string, now = new Date()): SessionCa {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + VALIDITY_DAYS * 86_400_000);
  const name = [
    { name: 'commonName', value: `mino session CA ${label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}` },
    { name: 'organizationName', value: 'mino (per-session, key never leaves the proxy)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signNative(cert, keys.privatePem);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

/** The RSA key forge builds a leaf's TBS around, replaced by the leaf's EC key before signing. */
let placeholderKey: forge.pki.rsa.PublicKey | undefined;

/** The leaves' key pair: ECDSA P-256 (made in well under a millisecond; cheap handshakes). */
interface LeafKeys {
  /** SubjectPublicKeyInfo, as forge ASN.1. */
  spki: forge.asn1.Asn1;
  privatePem: string;
}

function ecKeyPair(): LeafKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    spki: forge.asn1.fromDer(der.toString('binary')),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * Leaf certificates signed by a session CA, one per host, cached for the proxy's life. Their key
 * is ECDSA P-256, made once when the proxy starts: RSA-2048 took 0.1 to 0.6 s to make on a busy
 * 2-core machine (it was made on the session's first connection when the background one was
 * late), and its signature in every full handshake costs ~20 times ECDSA's. Every client the
 * sandbox runs takes ECDSA (BusyBox's ssl_client included).
 */
export class LeafCertificates {
  private readonly caCert: forge.pki.Certificate;
  private readonly caKeyObject: KeyObject;
  private readonly caKeyId: string;
  private readonly leafKeys: LeafKeys;
  private readonly contexts = new Map<string, SecureContext>();

  constructor(ca: SessionCa) {
    this.caCert = forge.pki.certificateFromPem(ca.certPem);
    this.caKeyObject = createPrivateKey(ca.keyPem);
    // Fails now, not at the first connection, when the key does not belong to the certificate.
    if (!new X509Certificate(ca.certPem).checkPrivateKey(this.caKeyObject))
      throw new Error('the session CA key does not match its certificate');
    this.caKeyId = this.caCert.generateSubjectKeyIdentifier().getBytes();
    this.leafKeys = ecKeyPair();
  }

  /** Resolves at once (the leaves' key is made in the constructor); kept for its callers' order. */
  prepare(): Promise<void> {
    return Promise.resolve();
  }

  /** A TLS context presenting a certificate for `host` (a name or an IP address). */
  contextFor(host: string): SecureContext {
    const key = host.toLowerCase();
    let ctx = this.contexts.get(key);
    if (!ctx) {
      const { certPem, keyPem } = this.issue(key);
      ctx = createSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2', ciphers: CLIENT_CIPHERS });
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Signs a leaf certificate for `host` (exported for tests). */
  issue(host: string, now = new Date()): { certPem: string; keyPem: string } {
    const cert = forge.pki.createCertificate();
    // forge encodes RSA keys only: the TBS is built around a tiny placeholder RSA key, whose subject key info
    // is then replaced by the leaf's EC one (forge ASN.1 parsed from node's DER) before signing.
    placeholderKey ??= forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));
    cert.publicKey = placeholderKey;
    cert.serialNumber = randomSerial();
    const caEnd = this.caCert.validity.notAfter.getTime();
    cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
    cert.validity.notAfter = new Date(Math.min(caEnd, now.getTime() + VALIDITY_DAYS * 86_400_000));
    cert.setSubject([{ name: 'commonName', value: host.slice(0, 64) }]);
    cert.setIssuer(this.caCert.subject.attributes);
    const alt = isIP(host) !== 0 ? { type: 7, ip: host } : { type: 2, value: host };
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [alt] },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.caKeyId },
    ]);
    const oid = forge.pki.oids.sha256WithRSAEncryption!;
    cert.siginfo.algorithmOid = oid;
    cert.signatureOid = oid;
    const tbs = tbsOf(cert);
    (tbs.value as forge.asn1.Asn1[])[SPKI_INDEX] = this.leafKeys.spki;
    // certificateToPem takes the TBS given here instead of building it again.
    (cert as forge.pki.Certificate & { tbsCertificate: forge.asn1.Asn1 }).tbsCertificate = tbs;
    const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
    cert.signature = sign('sha256', der, this.caKeyObject).toString('binary');
    return { certPem: forge.pki.certificateToPem(cert), keyPem: this.leafKeys.privatePem };
  }
}
