import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { LOCAL_CA_DIRS, readCertDir } from '../image/host-ca-certificates.js';

/**
 * The host's CA certificates for sessions. Behind a TLS-intercepting proxy (corporate networks,
 * this build machine) nothing in a container trusts the proxy's CA unless it is carried in.
 * mino-base has the host's extra CAs built in; any other image (`--image`) does not. When the host
 * has extra CAs (files under /usr/local/share/ca-certificates or /etc/pki/ca-trust/source/anchors,
 * or bundles named by NODE_EXTRA_CA_CERTS / SSL_CERT_FILE), every session gets one bundle file,
 * mounted read-only at {@link CA_BUNDLE_TARGET}, and NODE_EXTRA_CA_CERTS, SSL_CERT_FILE and
 * REQUESTS_CA_BUNDLE point at it. The bundle is the host's system bundle (public roots) followed
 * by the extra certificates, so SSL_CERT_FILE, which replaces a program's default store, still
 * trusts everything the host trusts.
 */

/** Where the bundle appears in the container. */
export const CA_BUNDLE_TARGET = '/run/mino/ca-certificates.crt';

/** Variables that make Node, OpenSSL (curl, git, Python ssl), requests, npm and pip use the bundle. */
export const CA_BUNDLE_VARS = [
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'NPM_CONFIG_CAFILE',
  'PIP_CERT',
] as const;

/** The system bundle of Debian-based images (mino's): a session CA is mounted over it too. */
export const SYSTEM_CA_BUNDLE_TARGET = '/etc/ssl/certs/ca-certificates.crt';

/** System bundles of the common distributions (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE). */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
];

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Everything the host trusts, as one PEM text: its system bundle and its extra CA certificates;
 * empty when it has neither (the caller then uses node's own roots). Upstream servers of
 * terminated hosts are verified against it.
 */
function hostTrustText(env: NodeJS.ProcessEnv): string {
  const text = sessionCaBundleText(env);
  if (text !== undefined) return text;
  const system = SYSTEM_BUNDLES.find((p) => existsSync(p));
  const base = system === undefined ? '' : readOrEmpty(system);
  return base.includes('-----BEGIN CERTIFICATE-----') ? base : '';
}

/** What upstream servers of terminated hosts are verified against: {@link hostTrustText}, else node's own roots. */
export function upstreamTrustText(env: NodeJS.ProcessEnv): string {
  return hostTrustText(env) || `${process.getBuiltinModule('node:tls').rootCertificates.join('\n')}\n`;
}

/** The trust bundle of a sandbox whose proxy terminates TLS: `trust` and the CA certificate the proxy signs with. */
export function terminatingBundleText(trust: string, caCertPem: string): string {
  return `${trust}${trust.endsWith('\n') ? '' : '\n'}${caCertPem}`;
}

/** The bundle text for sessions, or undefined when the host has no extra CA certificates. */
function sessionCaBundleText(env: NodeJS.ProcessEnv): string | undefined {
  const system = SYSTEM_BUNDLES.find((p) => existsSync(p));
  const base = system === undefined ? '' : readOrEmpty(system);
  const extras = LOCAL_CA_DIRS.flatMap(readCertDir);
  let fromEnv = false;
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE']) {
    const path = env[name];
    if (!path?.startsWith('/') || path === system) continue;
    const text = readOrEmpty(path);
    // Often the system bundle itself (after update-ca-certificates): nothing extra then.
    if (text === '' || text === base || extras.includes(text)) continue;
    extras.push(text);
    fromEnv = true;
  }
  const extraText = extras.filter((t) => t.includes('-----BEGIN')).join('\n');
  if (extraText === '' && !fromEnv) return undefined;
  return `${base}${base.endsWith('\n') || base === '' ? '' : '\n'}${extraText}${extraText.endsWith('\n') ? '' : '\n'}`;
}

/** Where {@link writeSessionCaBundle} keeps the bundle of a state directory (read as it is by a remote pool). */
export function sessionCaBundlePath(stateDir: string): string {
  return join(stateDir, 'ca', 'session-ca.crt');
}

/** A file's identity and version (size, times, inode), or `-` when it cannot be read. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;
  } catch {
    return '-';
  }
}

/** The stamps of the certificate files and directories under `dir` (what readCertDir reads). */
function dirStamps(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    out.push(`${dir}:-`);
    return;
  }
  out.push(`${dir}:${fileStamp(dir)}`);
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) dirStamps(path, out);
    else if (/\.(crt|pem)$/.test(entry.name)) out.push(`${path}:${fileStamp(path)}`);
  }
}

/**
 * What the session bundle is made of, by file identity (no certificate read): the system
 * bundles, the extra CA directories and the files the variables name. Any change to one of
 * them (a new file, an update-ca-certificates) changes it.
 */
function sourcesStamp(env: NodeJS.ProcessEnv): string {
  const parts = SYSTEM_BUNDLES.map((p) => `${p}:${fileStamp(p)}`);
  for (const dir of LOCAL_CA_DIRS) dirStamps(dir, parts);
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE']) {
    const path = env[name];
    parts.push(`${name}=${path ?? ''}:${path?.startsWith('/') ? fileStamp(path) : '-'}`);
  }
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * Writes the bundle to `<stateDir>/ca/session-ca.crt` when its content changed and returns the
 * path, or undefined when the host has no extra CA certificates. A stamp of its sources and of
 * the bundle written (`session-ca.stamp`) spares reading and comparing ~200 KB of certificates
 * on every run (~15 ms) while none of them changed.
 */
export function writeSessionCaBundle(stateDir: string, env: NodeJS.ProcessEnv): string | undefined {
  const path = sessionCaBundlePath(stateDir);
  const stampPath = join(stateDir, 'ca', 'session-ca.stamp');
  const sources = sourcesStamp(env);
  const [seenSources, seenBundle] = readOrEmpty(stampPath).split('\n');
  if (seenSources === sources) {
    if (seenBundle === 'none') return undefined;
    if (seenBundle === fileStamp(path)) return path;
  }
  const text = sessionCaBundleText(env);
  if (text !== undefined && readOrEmpty(path) !== text) writeFileAtomic(path, text, { mode: 0o644, mkdirMode: 0o700 });
  try {
    const bundle = text === undefined ? 'none' : fileStamp(path);
    writeFileAtomic(stampPath, `${sources}\n${bundle}\n`, { mode: 0o600, mkdirMode: 0o700, durable: false });
  } catch {
    // Without a stamp the next run reads the certificates again.
  }
  return text === undefined ? undefined : path;
}
