import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { disableIdmappedLowerLayers, ROOTFUL_RUN_ROOT, rootfulRunRoot } from '../../../src/host/idmapped-layers.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('disableIdmappedLowerLayers', () => {
  it('renames the probe file from true to false once', () => {
    const root = mkdtempSync(join(tmpdir(), 'mino-runroot-'));
    roots.push(root);
    mkdirSync(join(root, 'overlay'));
    writeFileSync(join(root, 'overlay', 'idmapped-lower-dir-true'), '');
    expect(disableIdmappedLowerLayers(root)).toBe(true);
    expect(existsSync(join(root, 'overlay', 'idmapped-lower-dir-false'))).toBe(true);
    expect(existsSync(join(root, 'overlay', 'idmapped-lower-dir-true'))).toBe(false);
    expect(disableIdmappedLowerLayers(root)).toBe(false);
  });

  it('does nothing where podman has not probed (no run root yet)', () => {
    expect(disableIdmappedLowerLayers(join(tmpdir(), 'mino-no-such-runroot'))).toBe(false);
  });
});

describe('rootfulRunRoot', () => {
  it('reads runroot from the storage.conf podman reads, else the default', () => {
    const root = mkdtempSync(join(tmpdir(), 'mino-storageconf-'));
    roots.push(root);
    const conf = join(root, 'storage.conf');
    writeFileSync(conf, '[storage]\ndriver = "overlay"\nrunroot = "/srv/run/storage"\ngraphroot = "/srv/graph"\n');
    expect(rootfulRunRoot({ CONTAINERS_STORAGE_CONF: conf })).toBe('/srv/run/storage');
    writeFileSync(conf, '[storage]\ndriver = "overlay"\n');
    expect(rootfulRunRoot({ CONTAINERS_STORAGE_CONF: conf })).toBe(ROOTFUL_RUN_ROOT);
    expect(rootfulRunRoot({ CONTAINERS_STORAGE_CONF: join(root, 'missing.conf') })).toBe(ROOTFUL_RUN_ROOT);
  });
});
