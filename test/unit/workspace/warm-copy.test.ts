import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rebasePaths } from '../../../src/common/rebase-paths.js';
import {
  adoptWarmCopy,
  layoutEntries,
  makeWarmCopy,
  sweepWarmCopies,
  warmCopiesDir,
  warmCopyOf,
} from '../../../src/workspace/warm-copy.js';

/**
 * The warm folders of branch pools: laid out from a plan's mount sources, made empty, and a
 * working copy moved into one keeping every mounted path's inode (what a warm container has
 * mounted), the rest renamed in; a copy that does not fit changes nothing.
 */

describe('warm copies', () => {
  let root: string;
  let copies: string;
  let base: string;
  const sources = (b: string): string[] => [
    `${b}/proj`,
    '/host/repo/.git/objects',
    `${b}/proj/.git`,
    `${b}/proj/.git/config`,
    `${b}/proj/.git/hooks`,
    `${b}/proj/.gitmodules`,
    `${b}/.mino-private/settings.local.json`,
  ];

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-warm-copy-')));
    copies = join(root, 'branches', 'abc');
    base = join(copies, 'feat');
    // A working copy as a branch session has it: files, git directory, stand-ins, private settings.
    mkdirSync(join(base, 'proj', '.git', 'hooks'), { recursive: true });
    mkdirSync(join(base, 'proj', '.git', 'refs', 'heads'), { recursive: true });
    mkdirSync(join(base, 'proj', 'src'), { recursive: true });
    mkdirSync(join(base, '.mino-private'));
    writeFileSync(join(base, 'proj', '.git', 'config'), '[core]\n\tbare = false\n');
    writeFileSync(join(base, 'proj', '.git', 'HEAD'), 'ref: refs/heads/mino/feat\n');
    writeFileSync(join(base, 'proj', '.git', 'hooks', 'keep'), 'x');
    writeFileSync(join(base, 'proj', '.gitmodules'), '');
    writeFileSync(join(base, 'proj', 'src', 'a.txt'), 'a\n');
    writeFileSync(join(base, '.mino-private', 'settings.local.json'), '{"mine":1}\n', { mode: 0o600 });
    writeFileSync(join(base, 'copy.json'), '{}\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('layoutEntries: the sources under the base folder and their parents, parents first', () => {
    const kinds = (rel: string): 'file' | 'dir' => (/config|gitmodules|json/.test(rel) ? 'file' : 'dir');
    expect(layoutEntries(base, sources(base), kinds)).toEqual([
      { path: '.mino-private', kind: 'dir' },
      { path: 'proj', kind: 'dir' },
      { path: '.mino-private/settings.local.json', kind: 'file' },
      { path: 'proj/.git', kind: 'dir' },
      { path: 'proj/.gitmodules', kind: 'file' },
      { path: 'proj/.git/config', kind: 'file' },
      { path: 'proj/.git/hooks', kind: 'dir' },
    ]);
  });

  it('adoptWarmCopy moves the copy in: mounted paths keep their inodes, the folder takes the copy’s place', () => {
    const kinds = (rel: string): 'file' | 'dir' => (/config|gitmodules|json/.test(rel) ? 'file' : 'dir');
    const layout = { dir: warmCopiesDir(copies), entries: layoutEntries(base, sources(base), kinds) };
    const warm = makeWarmCopy(layout, 'mino.warm.0123456789ab.01234567');
    expect(warm).toBe(join(copies, '.warm', 'mino.warm.0123456789ab.01234567'));
    expect(lstatSync(warm).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(warm, 'proj'))).toEqual(['.git', '.gitmodules']);
    const inode = (p: string): number => lstatSync(join(warm, p)).ino;
    const before = Object.fromEntries(layout.entries.map((e) => [e.path, inode(e.path)]));
    const baseMode = lstatSync(base).mode & 0o777;

    expect(adoptWarmCopy(base, warm, sources(base))).toBe(true);
    expect(existsSync(warm)).toBe(false);
    for (const e of layout.entries) expect(lstatSync(join(base, e.path)).ino, e.path).toBe(before[e.path]);
    expect(readFileSync(join(base, 'proj', '.git', 'config'), 'utf8')).toBe('[core]\n\tbare = false\n');
    expect(readFileSync(join(base, 'proj', '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/mino/feat\n');
    expect(readFileSync(join(base, 'proj', '.git', 'hooks', 'keep'), 'utf8')).toBe('x');
    expect(readFileSync(join(base, 'proj', 'src', 'a.txt'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(base, '.mino-private', 'settings.local.json'), 'utf8')).toBe('{"mine":1}\n');
    expect(lstatSync(join(base, '.mino-private', 'settings.local.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(base, 'copy.json'), 'utf8')).toBe('{}\n');
    expect(lstatSync(base).mode & 0o777).toBe(baseMode);
  });

  it('a copy that does not fit (a mounted path of another kind, a link) changes nothing', () => {
    const kinds = (rel: string): 'file' | 'dir' => (/config|gitmodules|json/.test(rel) ? 'file' : 'dir');
    const layout = { dir: warmCopiesDir(copies), entries: layoutEntries(base, sources(base), kinds) };
    const warm = makeWarmCopy(layout, 'mino.warm.0123456789ab.01234567');
    rmSync(join(base, 'proj', '.gitmodules'));
    mkdirSync(join(base, 'proj', '.gitmodules'));
    expect(adoptWarmCopy(base, warm, sources(base))).toBe(false);
    rmSync(join(base, 'proj', '.gitmodules'), { recursive: true });
    symlinkSync('/etc/passwd', join(base, 'proj', '.gitmodules'));
    expect(adoptWarmCopy(base, warm, sources(base))).toBe(false);
    expect(readdirSync(join(warm, 'proj'))).toEqual(['.git', '.gitmodules']);
    expect(readFileSync(join(base, 'proj', 'src', 'a.txt'), 'utf8')).toBe('a\n');
    // Something the warm container wrote into its folder: it does not fit either.
    rmSync(join(base, 'proj', '.gitmodules'));
    writeFileSync(join(base, 'proj', '.gitmodules'), '');
    writeFileSync(join(warm, 'proj', 'planted'), 'x');
    expect(adoptWarmCopy(base, warm, sources(base))).toBe(false);
    rmSync(join(warm, 'proj', 'planted'));
    expect(adoptWarmCopy(base, warm, sources(base))).toBe(true);
  });

  it('sweepWarmCopies removes folders no pool lists once they are old enough; names are checked', () => {
    const dir = warmCopiesDir(copies);
    const layout = { dir, entries: [] };
    for (const n of ['mino.warm.0123456789ab.00000001', 'mino.warm.0123456789ab.00000002']) makeWarmCopy(layout, n);
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, 'mino.warm.0123456789ab.00000001'), old, old);
    sweepWarmCopies(dir, new Set());
    expect(readdirSync(dir)).toEqual(['mino.warm.0123456789ab.00000002']);
    sweepWarmCopies(dir, new Set(['mino.warm.0123456789ab.00000002']), 0);
    expect(readdirSync(dir)).toEqual(['mino.warm.0123456789ab.00000002']);
    expect(() => warmCopyOf(dir, '../x')).toThrow(/Invalid warm container name/);
  });

  it('rebasePaths moves every string of a folder, at any depth, and nothing else', () => {
    const v = { a: '/b/c', b: ['/b', '/bc', '/b/c/d'], c: { d: '/x/b/c', e: 3 } };
    expect(rebasePaths(v, '/b', '/z')).toEqual({ a: '/z/c', b: ['/z', '/bc', '/z/c/d'], c: { d: '/x/b/c', e: 3 } });
    expect(v.a).toBe('/b/c');
  });
});
