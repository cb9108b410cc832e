import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { localHost, type Host } from '../host/host.js';
import { extraCertificates, type PemCertificate } from './ca-certificates.js';

/**
 * Collects this host's extra CA certificates: the local trust anchors
 * (`/usr/local/share/ca-certificates`, `/etc/pki/ca-trust/source/anchors`) and the bundles named
 * by `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE` and npm's `cafile`, minus the certificates the
 * distribution ships (`/usr/share/ca-certificates`).
 */

/** Directories of locally added CA certificates (Debian/Ubuntu, Fedora/RHEL). */
export const LOCAL_CA_DIRS = ['/usr/local/share/ca-certificates', '/etc/pki/ca-trust/source/anchors'];
/** Where the distribution keeps the CA certificates it ships. */
const SYSTEM_CA_DIR = '/usr/share/ca-certificates';

function readText(path: string): string | undefined {
  try {
    return statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** Texts of the certificate files under `dir` (recursively; `.crt` and `.pem`). */
export function readCertDir(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...readCertDir(path));
    else if (/\.(crt|pem)$/.test(entry.name)) {
      const text = readText(path);
      if (text !== undefined) out.push(text);
    }
  }
  return out;
}

async function npmCafile(host: Host): Promise<string | undefined> {
  const result = await host.run(['npm', 'config', 'get', 'cafile'], { timeoutMs: 15_000 }).catch(() => undefined);
  const value = result?.exitCode === 0 ? result.stdout.trim() : '';
  return value.startsWith('/') ? value : undefined;
}

/** The host's extra CA certificates (see the module comment); npm is asked on `host`. */
export async function hostExtraCertificates(
  env: NodeJS.ProcessEnv = process.env,
  host: Host = localHost,
): Promise<PemCertificate[]> {
  const sources = LOCAL_CA_DIRS.flatMap(readCertDir);
  const bundles = [env.NODE_EXTRA_CA_CERTS, env.SSL_CERT_FILE, await npmCafile(host)];
  for (const path of bundles) {
    if (!path) continue;
    const text = readText(path);
    if (text !== undefined) sources.push(text);
  }
  return extraCertificates(sources, readCertDir(SYSTEM_CA_DIR));
}
