import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { extraCertificates, parsePemBundle } from '../../../src/image/ca-certificates.js';
import { hostExtraCertificates, readCertDir } from '../../../src/image/host-ca-certificates.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

const PROXY = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'ca', 'proxy-ca.crt'), 'utf8');
const SYSTEM = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'ca', 'system-ca.crt'), 'utf8');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('PEM parsing', () => {
  it('finds every certificate in a bundle with text around it and normalises CRLF and wrapping', () => {
    const bundle = `# proxy\r\n${PROXY.replace(/\n/g, '\r\n')}\nsome text\n${SYSTEM}`;
    const certs = parsePemBundle(bundle);
    expect(certs).toHaveLength(2);
    expect(certs[0]!.pem).toBe(PROXY);
    expect(certs[0]!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(certs[0]!.id).not.toBe(certs[1]!.id);
    const rewrapped = PROXY.replace(/\n(?!-)/g, '').replace('-----END', '\n-----END');
    expect(parsePemBundle(rewrapped)[0]!.id).toBe(certs[0]!.id);
  });

  it('ignores private keys and empty blocks', () => {
    expect(parsePemBundle('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toEqual([]);
    expect(parsePemBundle('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')).toEqual([]);
  });
});

describe('extra CA certificates', () => {
  it('keeps the certificates the distribution does not ship, once each', () => {
    // NODE_EXTRA_CA_CERTS often points at the whole system bundle, which already holds the local CA.
    const systemBundle = `${SYSTEM}${PROXY}`;
    const extra = extraCertificates([PROXY, systemBundle, PROXY], [SYSTEM]);
    expect(extra.map((c) => c.pem)).toEqual([PROXY]);
  });

  it('gives nothing when every certificate is a system one', () => {
    expect(extraCertificates([SYSTEM], [SYSTEM])).toEqual([]);
  });

  it('reads .crt and .pem files recursively from a directory, sorted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-ca-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'corp'));
    writeFileSync(join(dir, 'corp', 'b.crt'), PROXY);
    writeFileSync(join(dir, 'a.pem'), SYSTEM);
    writeFileSync(join(dir, 'notes.txt'), PROXY);
    expect(readCertDir(dir)).toEqual([SYSTEM, PROXY]);
    expect(readCertDir(join(dir, 'missing'))).toEqual([]);
  });

  it('collects the bundles named by NODE_EXTRA_CA_CERTS and SSL_CERT_FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-ca-'));
    dirs.push(dir);
    const bundle = join(dir, 'bundle.pem');
    writeFileSync(bundle, PROXY);
    const withBundle = await hostExtraCertificates({ NODE_EXTRA_CA_CERTS: bundle, PATH: process.env.PATH });
    expect(withBundle.map((c) => c.pem)).toContain(PROXY);
    const withMissing = await hostExtraCertificates({ SSL_CERT_FILE: join(dir, 'nope.pem'), PATH: process.env.PATH });
    expect(withMissing.map((c) => c.pem)).not.toContain(PROXY);
  });
});
