import {
  X509Certificate,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_CIPHERS, createSecureContext, type SecureContext } from 'node:tls';
import forge from 'node-forge';

/**
 * The per-session certificate authority of the TLS-terminating proxy. `mino run` makes it (the
 * certificate goes into the sandbox's trust bundle, the key only to the session's proxy, through
 * a pipe: never on disk, never in the sandbox); the proxy signs one leaf certificate per host it
 * terminates, cached in memory. Keys are made by node's crypto (native, fast); certificates are
 * built with node-forge (no hand-written ASN.1) and signed natively. The CA and the leaves are
 * ECDSA P-256 (a key in well under a millisecond; an RSA-2048 CA took 0.2 to 0.9 s to make here);
 * every leaf shares one key pair made when the proxy starts, so a new host costs one signature.
 */

/** A session CA: PEM certificate and PEM (PKCS#8) private key. The key is a secret. */
export interface SessionCa {
  certPem: string;
  keyPem: string;
}

/**
 * `list` (an OpenSSL cipher list) with TLS 1.3's AES-128-GCM first: of node's defaults (AES-256
 * first), the cheapest with AES instructions, for a proxy that decrypts and encrypts every byte.
 */
function aes128First(list: string): string {
  const first = 'TLS_AES_128_GCM_SHA256';
  return [first, ...list.split(':').filter((c) => c !== first)].join(':');
}

/**
 * Ciphers offered to the sandbox's clients: node's defaults first (modern clients pick them), then
 * older ones, and security level 0 for small clients such as BusyBox's, which sign handshakes
 * with SHA-1 only. This TLS never leaves the sandbox's own loopback; upstream TLS keeps node's
 * defaults.
 */
const CLIENT_CIPHERS = `${aes128First(DEFAULT_CIPHERS)}:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256:AES128-SHA256:AES128-SHA:@SECLEVEL=0`;

/** How long a session CA (and its leaves) stays valid. */
const VALIDITY_DAYS = 30;
/** Leaves and the CA start an hour in the past: clocks inside and outside may differ a little. */
const BACKDATE_MS = 60 * 60_000;

/** Positions in a v3 TBSCertificate: version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo. */
const SIGNATURE_INDEX = 2;
const ISSUER_INDEX = 3;
const VALIDITY_INDEX = 4;
const SUBJECT_INDEX = 5;
const SPKI_INDEX = 6;

/** Signature algorithms' object identifiers (forge's table has no ECDSA). */
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

const { asn1 } = forge;

function randomSerial(): string {
  // Positive (high bit clear), 16 bytes.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** DER (a forge binary string) parsed, BIT STRINGs left as bytes. */
function fromDer(der: string): forge.asn1.Asn1 {
  return asn1.fromDer(der, { decodeBitStrings: false } as unknown as boolean);
}

function children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (!Array.isArray(node.value)) throw new Error('the session CA certificate does not parse');
  return node.value;
}

/** An ECDSA P-256 key pair, its public half as forge ASN.1 and its key identifier. */
interface EcKeys {
  /** SubjectPublicKeyInfo, as forge ASN.1. */
  spki: forge.asn1.Asn1;
  /** RFC 5280's key identifier (SHA-1 of the public key's bits), binary string. */
  keyId: string;
  privateKey: KeyObject;
  privatePem: string;
}

/** The key identifier of a SubjectPublicKeyInfo: SHA-1 of its public key's bits (RFC 5280, 4.2.1.2 (1)). */
function keyIdOf(spki: forge.asn1.Asn1): string {
  const bits = children(spki)[1]!.value;
  if (typeof bits !== 'string') throw new Error('the session CA certificate does not parse');
  // The BIT STRING's first byte counts its unused bits (0 here), not key.
  return createHash('sha1')
    .update(Buffer.from(bits.slice(1), 'binary'))
    .digest('binary');
}

function ecKeyPair(): EcKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = fromDer(publicKey.export({ type: 'spki', format: 'der' }).toString('binary'));
  return {
    spki,
    keyId: keyIdOf(spki),
    privateKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The AlgorithmIdentifier of an ECDSA SHA-256 signature (no parameters: RFC 5758). */
function signatureAlgorithm(key: KeyObject): forge.asn1.Asn1 {
  if (key.asymmetricKeyType !== 'ec') throw new Error('the session CA key is not an ECDSA key');
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(ECDSA_WITH_SHA256).getBytes()),
  ]);
}

/** The RSA key forge builds a TBS around (it encodes RSA keys only), replaced before signing. */
let placeholderKey: forge.pki.rsa.PublicKey | undefined;

/** forge's to-be-signed part of a certificate (public in forge, missing from its types). */
function tbsOf(cert: forge.pki.Certificate): forge.asn1.Asn1 {
  return (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(
    cert,
  );
}

/** What forge does not build itself: the parts of a certificate that name keys. */
interface Signing {
  /** The certificate's own public key. */
  spki: forge.asn1.Asn1;
  /** The issuer's Name as it is in the issuer's certificate (a self-signed certificate: its subject). */
  issuer?: forge.asn1.Asn1;
  /** The issuer's private key. */
  key: KeyObject;
}

/**
 * The PEM of `cert` (serial, validity, names and extensions set), with the key, issuer and
 * signature algorithm of `signing`: forge builds the to-be-signed part around a placeholder RSA key
 * (it encodes no other kind), whose slots are then filled from `signing`, and node signs it.
 */
function signedPem(cert: forge.pki.Certificate, signing: Signing): string {
  placeholderKey ??= forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('3'));
  cert.publicKey = placeholderKey;
  // forge wants an algorithm it knows to build the TBS; its slot is replaced below.
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  const tbs = tbsOf(cert);
  const fields = children(tbs);
  const algorithm = signatureAlgorithm(signing.key);
  fields[SIGNATURE_INDEX] = algorithm;
  fields[SPKI_INDEX] = signing.spki;
  if (signing.issuer) fields[ISSUER_INDEX] = signing.issuer;
  const der = asn1.toDer(tbs).getBytes();
  const signature = sign('sha256', Buffer.from(der, 'binary'), signing.key).toString('binary');
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    algorithm,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\0${signature}`),
  ]);
  return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(certificate).getBytes() });
}

/** Makes a fresh CA for one session (`label` goes into its name, e.g. the session name). */
export function createSessionCa(label: string, now = new Date()): SessionCa {
  const keys = ecKeyPair();
  const cert = forge.pki.createCertificate();
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
    {
      name: 'subjectKeyIdentifier',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, keys.keyId),
    },
  ]);
  return { certPem: signedPem(cert, { spki: keys.spki, key: keys.privateKey }), keyPem: keys.privatePem };
}

/** What a leaf takes from its CA's certificate. */
interface CaParts {
  subject: forge.asn1.Asn1;
  notAfter: Date;
  keyId: string;
}

/** Reads a CA certificate's subject, end of validity and key identifier (forge's own parser takes RSA keys only). */
function caParts(certPem: string): CaParts {
  const der = forge.pem.decode(certPem)[0]?.body;
  if (der === undefined) throw new Error('the session CA certificate is not PEM');
  const tbs = children(fromDer(der))[0]!;
  const fields = children(tbs);
  if (fields[0]?.tagClass !== asn1.Class.CONTEXT_SPECIFIC)
    throw new Error('the session CA certificate is not X.509 v3');
  const end = children(fields[VALIDITY_INDEX]!)[1]!;
  const text = end.value as string;
  return {
    subject: fields[SUBJECT_INDEX]!,
    notAfter: end.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(text) : asn1.generalizedTimeToDate(text),
    keyId: keyIdOf(fields[SPKI_INDEX]!),
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
  private readonly ca: CaParts;
  private readonly caKeyObject: KeyObject;
  private readonly leafKeys: EcKeys;
  private readonly contexts = new Map<string, SecureContext>();

  constructor(ca: SessionCa) {
    this.caKeyObject = createPrivateKey(ca.keyPem);
    // Fails now, not at the first connection, when the key does not belong to the certificate.
    if (!new X509Certificate(ca.certPem).checkPrivateKey(this.caKeyObject))
      throw new Error('the session CA key does not match its certificate');
    this.ca = caParts(ca.certPem);
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
      ctx = createSecureContext({
        cert: certPem,
        key: keyPem,
        minVersion: 'TLSv1.2',
        ciphers: CLIENT_CIPHERS,
        honorCipherOrder: true,
      });
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** Signs a leaf certificate for `host` (exported for tests). */
  issue(host: string, now = new Date()): { certPem: string; keyPem: string } {
    const cert = forge.pki.createCertificate();
    cert.serialNumber = randomSerial();
    cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
    cert.validity.notAfter = new Date(Math.min(this.ca.notAfter.getTime(), now.getTime() + VALIDITY_DAYS * 86_400_000));
    cert.setSubject([{ name: 'commonName', value: host.slice(0, 64) }]);
    // (node's isIP compiles its IPv6 expression on first use, ~10 ms: a name with a letter is no address)
    const address = !/[g-z]/i.test(host) && isIP(host) !== 0;
    const alt = address ? { type: 7, ip: host } : { type: 2, value: host };
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [alt] },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.ca.keyId },
    ]);
    const certPem = signedPem(cert, { spki: this.leafKeys.spki, issuer: this.ca.subject, key: this.caKeyObject });
    return { certPem, keyPem: this.leafKeys.privatePem };
  }
}
