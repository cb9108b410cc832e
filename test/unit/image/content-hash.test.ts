import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashDirectory, listFiles } from '../../../src/image/content-hash.js';
import { baseImageTag } from '../../../src/image/base-image-tag.js';
import { builtinLayersDir } from '../../../src/image/layers-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mino-hash-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const BASE = {
  Containerfile: 'FROM x\nRUN true\n',
  'mino-entrypoint': '#!/bin/sh\nexec "$@"\n',
  'sub/zshrc': 'PROMPT=x\n',
};

describe('hashDirectory', () => {
  it('is stable: same files give the same hash whatever the creation order, times and modes', () => {
    const a = tree(BASE);
    const b = tree({
      'sub/zshrc': BASE['sub/zshrc'],
      'mino-entrypoint': BASE['mino-entrypoint'],
      Containerfile: BASE.Containerfile,
    });
    utimesSync(join(b, 'Containerfile'), 1000, 1000);
    chmodSync(join(b, 'mino-entrypoint'), 0o755);
    expect(hashDirectory(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashDirectory(a)).toBe(hashDirectory(b));
    expect(hashDirectory(a)).toBe(hashDirectory(a));
  });

  it('changes when a file content changes, a file is renamed, added or removed', () => {
    const reference = hashDirectory(tree(BASE));
    expect(hashDirectory(tree({ ...BASE, Containerfile: 'FROM x\nRUN  true\n' }))).not.toBe(reference);
    expect(hashDirectory(tree({ ...BASE, 'extra.txt': '' }))).not.toBe(reference);
    const { 'sub/zshrc': _dropped, ...rest } = BASE;
    expect(hashDirectory(tree(rest))).not.toBe(reference);
    const moved = tree(BASE);
    renameSync(join(moved, 'sub', 'zshrc'), join(moved, 'zshrc'));
    expect(hashDirectory(moved)).not.toBe(reference);
  });

  it('does not confuse where a name ends and the content starts', () => {
    expect(hashDirectory(tree({ ab: 'c' }))).not.toBe(hashDirectory(tree({ a: 'bc' })));
    expect(hashDirectory(tree({ a: 'x', b: '' }))).not.toBe(hashDirectory(tree({ a: 'x1:b0:' })));
  });

  it('lists files with / separators in code-unit order, ignoring empty directories', () => {
    const dir = tree({ b: '', 'a/z': '', 'a/B': '', C: '' });
    mkdirSync(join(dir, 'empty'));
    expect(listFiles(dir)).toEqual(['C', 'a/B', 'a/z', 'b']);
  });
});

describe('the built-in base layer', () => {
  it('is found from the source tree and hashes to a mino-base tag', () => {
    const base = join(builtinLayersDir(), 'base');
    expect(listFiles(base)).toEqual(expect.arrayContaining(['Containerfile', 'mino-bootstrap', 'mino-entrypoint']));
    expect(baseImageTag(hashDirectory(base))).toMatch(/^localhost\/mino-base:[0-9a-f]{12}$/);
  });

  it('MINO_LAYERS_DIR overrides the location, and a missing directory is an error with a hint', () => {
    const dir = tree({ 'base/Containerfile': 'FROM x\n' });
    expect(builtinLayersDir({ MINO_LAYERS_DIR: dir })).toBe(dir);
    expect(() => builtinLayersDir({ MINO_LAYERS_DIR: join(dir, 'nope') })).toThrow(/built-in layers are missing/);
  });
});
