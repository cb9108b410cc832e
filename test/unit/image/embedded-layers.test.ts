import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useEmbeddedAssets } from '../../../src/common/embedded-assets.js';
import { hashDirectory } from '../../../src/image/content-hash.js';
import {
  embeddedLayersDir,
  LAYERS_ASSET,
  LAYERS_ID_ASSET,
  parseLayersAsset,
} from '../../../src/image/embedded-layers.js';
import { builtinLayersDir } from '../../../src/image/layers-dir.js';

/** Embeds a tree the way scripts/package-sea.mjs does; returns its id. */
function embed(files: Array<{ path: string; mode: number; text: string }>, reads?: string[]): string {
  const json = Buffer.from(
    JSON.stringify({
      format: 1,
      files: files.map((f) => ({ path: f.path, mode: f.mode, data: Buffer.from(f.text).toString('base64') })),
    }),
  );
  const id = createHash('sha256').update(json).digest('hex');
  const assets: Record<string, Uint8Array> = { [LAYERS_ASSET]: json, [LAYERS_ID_ASSET]: Buffer.from(id) };
  useEmbeddedAssets((name) => {
    reads?.push(name);
    return assets[name];
  });
  return id;
}

const TREE = [
  { path: 'base/Containerfile', mode: 0o644, text: 'FROM scratch\n' },
  { path: 'base/mino-entrypoint', mode: 0o755, text: '#!/bin/sh\nexec "$@"\n' },
  { path: 'rust/layer.toml', mode: 0o644, text: '[layer]\nname = "rust"\n' },
];

let data: string;
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'mino-embedded-'));
});
afterEach(() => {
  useEmbeddedAssets(undefined);
  chmodSync(data, 0o700);
  rmSync(data, { recursive: true, force: true });
});

describe('embedded built-in layers', () => {
  it('is not used without embedded assets (bin/mino reads the checkout)', () => {
    expect(embeddedLayersDir(data)).toBeUndefined();
    expect(builtinLayersDir({ XDG_DATA_HOME: data, HOME: data })).not.toContain(data);
  });

  it('extracts the tree once into a private content-addressed directory with its modes', () => {
    const reads: string[] = [];
    const id = embed(TREE, reads);
    const umask = process.umask(0o077);
    let dir: string | undefined;
    try {
      dir = embeddedLayersDir(data);
    } finally {
      process.umask(umask);
    }
    expect(dir).toBe(join(data, 'builtin-layers', id));
    expect(readFileSync(join(dir!, 'base', 'Containerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(statSync(join(dir!, 'base', 'mino-entrypoint')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir!, 'rust', 'layer.toml')).mode & 0o777).toBe(0o644);
    expect(statSync(dir!).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'builtin-layers')).mode & 0o777).toBe(0o700);
    // No temporary directory is left next to it.
    expect(readdirSync(join(data, 'builtin-layers'))).toEqual([id]);
    // Later calls only read the id.
    reads.length = 0;
    expect(embeddedLayersDir(data)).toBe(dir);
    expect(reads).toEqual([LAYERS_ID_ASSET]);
  });

  it('gives the same content hash as the checkout tree it was made from', () => {
    const checkout = builtinLayersDir({});
    const files: Array<{ path: string; mode: number; text: string }> = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(checkout, rel), { withFileTypes: true })) {
        const path = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path);
        else
          files.push({
            path,
            mode: statSync(join(checkout, path)).mode & 0o111 ? 0o755 : 0o644,
            text: readFileSync(join(checkout, path), 'utf8'),
          });
      }
    };
    walk('');
    embed(files);
    const dir = builtinLayersDir({ XDG_DATA_HOME: data });
    expect(dir.startsWith(join(data, 'mino', 'builtin-layers'))).toBe(true);
    expect(hashDirectory(join(dir, 'base'))).toBe(hashDirectory(join(checkout, 'base')));
  });

  it('MINO_LAYERS_DIR still wins over the embedded tree', () => {
    embed(TREE);
    const forced = join(data, 'forced');
    mkdirSync(join(forced, 'base'), { recursive: true });
    writeFileSync(join(forced, 'base', 'Containerfile'), 'FROM x\n');
    expect(builtinLayersDir({ MINO_LAYERS_DIR: forced, XDG_DATA_HOME: data })).toBe(forced);
    expect(existsSync(join(data, 'mino'))).toBe(false);
  });

  it('uses a tree another mino extracted first', () => {
    const id = embed(TREE);
    const other = join(data, 'builtin-layers', id);
    mkdirSync(join(other, 'base'), { recursive: true, mode: 0o700 });
    writeFileSync(join(other, 'base', 'Containerfile'), 'FROM scratch\n');
    expect(embeddedLayersDir(data)).toBe(other);
  });

  it('refuses a damaged or writable-by-others copy with a hint instead of using it', () => {
    const id = embed(TREE);
    const dir = join(data, 'builtin-layers', id);
    mkdirSync(dir, { recursive: true });
    expect(() => embeddedLayersDir(data)).toThrow(/not an intact private copy/);
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'Containerfile'), 'x');
    chmodSync(dir, 0o777);
    expect(() => embeddedLayersDir(data)).toThrow(/not an intact private copy/);
  });

  it('rejects entries that would escape the directory or carry odd modes', () => {
    const asset = (files: unknown[]): Uint8Array => Buffer.from(JSON.stringify({ format: 1, files }));
    for (const path of ['../x', '/etc/passwd', 'a/../../b', 'a//b', '', '.hidden/../x', './x', 'a/.', 'a\\b']) {
      expect(() => parseLayersAsset(asset([{ path, mode: 0o644, data: '' }]))).toThrow(/invalid entry/);
    }
    expect(() => parseLayersAsset(asset([{ path: 'a', mode: 0o4755, data: '' }]))).toThrow(/invalid entry/);
    expect(() => parseLayersAsset(Buffer.from('{"format":2,"files":[]}'))).toThrow(/unknown format/);
    expect(() => parseLayersAsset(Buffer.from('not json'))).toThrow(/damaged/);
    expect(
      parseLayersAsset(
        asset([
          { path: 'base/Containerfile', mode: 0o644, data: 'eA==' },
          { path: 'base/.zshrc', mode: 0o644, data: '' },
        ]),
      ),
    ).toHaveLength(2);
  });
});
