import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defuseNewRepos, describeDefused, gitDirsOf } from '../../../src/protect/repo-guard.js';

/** A git directory at `dir` (relative to `root`) as git makes one, with `config` and hooks. */
function gitDir(root: string, dir: string, config: string, hooks: string[] = []): void {
  const at = join(root, dir);
  mkdirSync(join(at, 'objects'), { recursive: true });
  mkdirSync(join(at, 'refs'), { recursive: true });
  mkdirSync(join(at, 'hooks'), { recursive: true });
  writeFileSync(join(at, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(at, 'config'), config);
  writeFileSync(join(at, 'hooks', 'pre-commit.sample'), '#!/bin/sh\n');
  for (const h of hooks) writeFileSync(join(at, 'hooks', h), '#!/bin/sh\ntouch /tmp/pwned\n', { mode: 0o755 });
}

const SAFE = '[core]\n\trepositoryformatversion = 0\n\tbare = false\n';
const EVIL = `${SAFE}\tfsmonitor = touch /tmp/pwned\n[alias]\n\tst = !evil\n`;

describe('repositories a session made', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-repo-guard-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds git directories: .git folders, submodules, linked worktrees, .git files, bare folders', () => {
    gitDir(root, '.git', SAFE);
    gitDir(root, '.git/modules/lib', SAFE);
    mkdirSync(join(root, '.git/worktrees/w1'), { recursive: true });
    gitDir(root, 'a/b/.git', SAFE);
    gitDir(root, '.hidden/gd', SAFE);
    mkdirSync(join(root, 'linked'));
    writeFileSync(join(root, 'linked/.git'), 'gitdir: ../.hidden/gd\n');
    gitDir(root, 'docs/bare', SAFE);
    gitDir(root, 'node_modules/x/.git', SAFE);
    expect(Object.keys(gitDirsOf(root)).sort()).toEqual([
      '.git',
      '.git/modules/lib',
      '.git/worktrees/w1',
      '.hidden/gd',
      'a/b/.git',
      'docs/bare',
    ]);
  });

  it('moves the hooks aside and reduces the config of a new repository, and leaves the old ones alone', () => {
    gitDir(root, '.git', EVIL, ['post-commit']);
    const before = gitDirsOf(root);
    gitDir(root, 'sub/.git', EVIL, ['post-checkout', 'pre-commit']);
    const result = defuseNewRepos(root, before);
    expect(result.errors).toEqual([]);
    expect(result.defused).toEqual([
      {
        gitDir: 'sub/.git',
        hooks: { names: ['post-checkout', 'pre-commit'], movedTo: 'sub/.git/hooks.mino-disabled' },
        configs: [
          {
            file: 'sub/.git/config',
            dropped: ['core.fsmonitor', 'alias.st'],
            movedTo: 'sub/.git/config.mino-disabled',
          },
        ],
      },
    ]);
    expect(readFileSync(join(root, 'sub/.git/config'), 'utf8')).toBe(SAFE);
    expect(readFileSync(join(root, 'sub/.git/config.mino-disabled'), 'utf8')).toBe(EVIL);
    expect(existsSync(join(root, 'sub/.git/hooks'))).toBe(false);
    expect(existsSync(join(root, 'sub/.git/hooks.mino-disabled/post-checkout'))).toBe(true);
    // The repository that was there keeps everything (its files are protected during the session).
    expect(readFileSync(join(root, '.git/config'), 'utf8')).toBe(EVIL);
    expect(existsSync(join(root, '.git/hooks/post-commit'))).toBe(true);
    const lines = describeDefused(root, result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(join(root, 'sub/.git'));
    expect(lines[0]).toContain('core.fsmonitor, alias.st');
    // A second look changes nothing more.
    expect(defuseNewRepos(root, before).defused).toEqual([]);
  });

  it('leaves a repository that was there alone when git only committed in it (index, logs, objects)', async () => {
    gitDir(root, '.git', EVIL, ['pre-commit']);
    const before = gitDirsOf(root);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(root, '.git/index'), 'x');
    writeFileSync(join(root, '.git/HEAD'), 'ref: refs/heads/other\n');
    mkdirSync(join(root, '.git/logs/refs'), { recursive: true });
    mkdirSync(join(root, '.git/objects/ab'));
    expect(defuseNewRepos(root, before)).toEqual({ defused: [], errors: [] });
  });

  it('leaves a new repository that holds nothing that runs as it is', () => {
    const before = gitDirsOf(root);
    gitDir(root, 'vendor/lib/.git', `${SAFE}[remote "origin"]\n\turl = https://example.invalid/x\n`);
    expect(defuseNewRepos(root, before)).toEqual({ defused: [], errors: [] });
  });

  it("keeps a new submodule's core.worktree inside the project, and drops one that points out of it", () => {
    gitDir(root, '.git', SAFE);
    const before = gitDirsOf(root);
    gitDir(root, '.git/modules/lib', `${SAFE}\tworktree = ../../../lib\n`);
    gitDir(root, 'sub/.git', `${SAFE}\tworktree = /home/someone\n`);
    const result = defuseNewRepos(root, before);
    expect(result.defused.map((d) => [d.gitDir, d.configs[0]?.dropped])).toEqual([['sub/.git', ['core.worktree']]]);
  });

  it('treats a git directory replaced at the same path (another inode) as new', () => {
    gitDir(root, 'sub/.git', SAFE);
    const before = gitDirsOf(root);
    rmSync(join(root, 'sub/.git'), { recursive: true });
    gitDir(root, 'sub/.git', EVIL);
    expect(defuseNewRepos(root, before).defused.map((d) => d.gitDir)).toEqual(['sub/.git']);
  });

  it('covers a .git file naming a folder inside the project, bare folders and new submodule git directories', () => {
    gitDir(root, '.git', SAFE);
    const before = gitDirsOf(root);
    gitDir(root, '.git/modules/evil', EVIL);
    gitDir(root, '.stash/gd', EVIL, ['post-merge']);
    mkdirSync(join(root, 'linked'));
    writeFileSync(join(root, 'linked/.git'), 'gitdir: ../.stash/gd\n');
    gitDir(root, 'docs', EVIL);
    const found = defuseNewRepos(root, before)
      .defused.map((d) => d.gitDir)
      .sort();
    expect(found).toEqual(['.git/modules/evil', '.stash/gd', 'docs']);
  });

  it('moves aside a symbolic link where the hooks folder or the config is expected, never following it', () => {
    const before = gitDirsOf(root);
    const outside = mkdtempSync(join(tmpdir(), 'mino-repo-guard-out-'));
    try {
      writeFileSync(join(outside, 'config'), EVIL);
      mkdirSync(join(outside, 'hooks'));
      gitDir(root, 'sub/.git', SAFE);
      rmSync(join(root, 'sub/.git/hooks'), { recursive: true });
      rmSync(join(root, 'sub/.git/config'));
      symlinkSync(join(outside, 'hooks'), join(root, 'sub/.git/hooks'));
      symlinkSync(join(outside, 'config'), join(root, 'sub/.git/config'));
      const [d] = defuseNewRepos(root, before).defused;
      expect(d?.hooks?.names).toEqual(['(not a folder)']);
      expect(d?.configs[0]?.dropped).toEqual(['(not a small regular file)']);
      expect(lstatSync(join(root, 'sub/.git/config.mino-disabled')).isSymbolicLink()).toBe(true);
      expect(existsSync(join(root, 'sub/.git/config'))).toBe(false);
      expect(readFileSync(join(outside, 'config'), 'utf8')).toBe(EVIL);
      expect(existsSync(join(outside, 'hooks'))).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('never looks through a symbolic link to a folder', () => {
    const outside = mkdtempSync(join(tmpdir(), 'mino-repo-guard-out-'));
    try {
      gitDir(outside, 'r/.git', EVIL, ['post-checkout']);
      const before = gitDirsOf(root);
      symlinkSync(join(outside, 'r'), join(root, 'link'));
      expect(defuseNewRepos(root, before).defused).toEqual([]);
      expect(readFileSync(join(outside, 'r/.git/config'), 'utf8')).toBe(EVIL);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
