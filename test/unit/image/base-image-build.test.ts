import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFailureHint, writeBuildContext } from '../../../src/image/base-image.js';
import { withBuildDir } from '../../../src/image/build-dir.js';
import { parsePemBundle } from '../../../src/image/ca-certificates.js';
import { SBIN_PATH, debootstrapArgv, debootstrapTag } from '../../../src/image/debootstrap-parent.js';
import { builtinLayersDir } from '../../../src/image/layers-dir.js';
import { cleanRegistryUrl } from '../../../src/image/npm-registry.js';
import { REPO_ROOT } from '../../helpers/test-env.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'mino-image-unit-'));
  dirs.push(d);
  return d;
}

describe('build context', () => {
  it('holds the base layer files and one .crt per extra certificate, never an empty certs/', () => {
    const ctx = join(scratch(), 'context');
    const base = join(builtinLayersDir(), 'base');
    const pem = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'ca', 'proxy-ca.crt'), 'utf8');
    const certs = parsePemBundle(pem);
    writeBuildContext(ctx, base, certs);
    expect(readFileSync(join(ctx, 'Containerfile'), 'utf8')).toBe(readFileSync(join(base, 'Containerfile'), 'utf8'));
    expect(readdirSync(join(ctx, 'certs')).sort()).toEqual(['README', `mino-${certs[0]!.id}.crt`]);
    expect(readFileSync(join(ctx, 'certs', `mino-${certs[0]!.id}.crt`), 'utf8')).toBe(pem);
    const empty = join(scratch(), 'context');
    writeBuildContext(empty, base, []);
    expect(readdirSync(join(empty, 'certs'))).toEqual(['README']);
  });
});

describe('build scratch directories', () => {
  it('lives under <data>/builds and is removed after success and after failure', async () => {
    const data = scratch();
    let seen = '';
    await withBuildDir(data, async (dir) => {
      seen = dir.path;
      expect(dir.path.startsWith(join(data, 'builds'))).toBe(true);
      expect(statSync(dir.path).mode & 0o777).toBe(0o755);
    });
    expect(existsSync(seen)).toBe(false);
    await expect(
      withBuildDir(data, async (dir) => {
        seen = dir.path;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(seen)).toBe(false);
    expect(readdirSync(join(data, 'builds'))).toEqual([]);
  });
});

describe('debootstrap command line', () => {
  it('puts the sbin directories on PATH, and container=lxc when rootless (the runtime runs it in its user namespace)', () => {
    expect(debootstrapArgv('/usr/sbin/debootstrap', '/d/rootfs', 'http://m.example/debian', false)).toEqual([
      'env',
      `PATH=${SBIN_PATH}`,
      '/usr/sbin/debootstrap',
      '--variant=minbase',
      'bookworm',
      '/d/rootfs',
      'http://m.example/debian',
    ]);
    expect(debootstrapArgv('/usr/sbin/debootstrap', '/d/rootfs', 'http://m.example/debian', true)).toEqual([
      'env',
      `PATH=${SBIN_PATH}`,
      'container=lxc',
      '/usr/sbin/debootstrap',
      '--variant=minbase',
      'bookworm',
      '/d/rootfs',
      'http://m.example/debian',
    ]);
    expect(() => debootstrapArgv('debootstrap', '/d', '--foreign', false)).toThrow(/Invalid apt mirror/);
  });

  it('names the parent by mirror, stably', () => {
    expect(debootstrapTag('http://a.example/debian')).toMatch(/^localhost\/mino-debian:bookworm-[0-9a-f]{12}$/);
    expect(debootstrapTag('http://a.example/debian')).toBe(debootstrapTag('http://a.example/debian'));
    expect(debootstrapTag('http://a.example/debian')).not.toBe(debootstrapTag('http://b.example/debian'));
  });
});

describe('npm registry', () => {
  it('keeps http(s) URLs, drops credentials, rejects the rest', () => {
    expect(cleanRegistryUrl('https://registry.example.com/\n')).toBe('https://registry.example.com/');
    expect(cleanRegistryUrl('https://user:secret@registry.example.com/npm/')).toBe('https://registry.example.com/npm/');
    expect(cleanRegistryUrl('undefined')).toBeUndefined();
    expect(cleanRegistryUrl('')).toBeUndefined();
    expect(cleanRegistryUrl('file:///tmp/x')).toBeUndefined();
    expect(cleanRegistryUrl('https://a.example/ --unsafe-perm')).toBeUndefined();
  });
});

describe('build failures', () => {
  it('point at the proxy CA, the network or the rootless setup', () => {
    expect(buildFailureHint('npm error code SELF_SIGNED_CERT_IN_CHAIN')).toMatch(/ca-certificates/);
    expect(buildFailureHint("Temporary failure resolving 'mirror'")).toMatch(/cannot reach/);
    expect(buildFailureHint('potentially insufficient UIDs or GIDs')).toMatch(/mino setup/);
    expect(buildFailureHint('something else')).toMatch(/-v/);
  });
});
