import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  discoverProtected,
  findNestedRepos,
  hooksPathIn,
  includePathsIn,
} from '../../../src/protect/protect-discovery.js';
import { WORKTREE_RULES } from '../../../src/protect/protect-rules.js';

describe('protected path discovery', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-discover-'));
  });
  afterEach(() => {
    if (existsSync(join(dir, 'ro'))) chmodSync(join(dir, 'ro'), 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads core.hooksPath inside the tree only', () => {
    expect(hooksPathIn('[core]\n\thooksPath = .husky\n', '/p')).toBe('.husky');
    expect(hooksPathIn('[core]\n\thooksPath = /p/.githooks\n', '/p')).toBe('.githooks');
    expect(hooksPathIn('[core]\n\thooksPath = /etc/hooks\n', '/p')).toBeUndefined();
    expect(hooksPathIn('[alias]\n\thooksPath = .x\n', '/p')).toBeUndefined();
    expect(hooksPathIn('[core]\n\tbare = false\n', '/p')).toBeUndefined();
  });

  it('reads a key on the same line as its section header', () => {
    expect(hooksPathIn('[core] hooksPath = .githooks\n', '/p')).toBe('.githooks');
  });

  it('reads the include paths of a git config that lie inside the root', () => {
    const text =
      '[include]\n\tpath = ../.gitconfig\n[includeIf "gitdir:/p/"]\n\tpath = /p/conf/extra\n[include] path = ~/.gitconfig-mine\n[include]\n\tpath = /etc/gitconfig\n';
    expect(includePathsIn(text, '/p/.git', '/p')).toEqual(['.gitconfig', 'conf/extra']);
  });

  it('protects the files the git config includes from inside the project, absent ones with a stand-in', () => {
    mkdirSync(join(dir, '.git'), { recursive: true });
    writeFileSync(join(dir, '.git/config'), '[include]\n\tpath = ../.gitconfig\n\tpath = ../absent.gitconfig\n');
    writeFileSync(join(dir, '.gitconfig'), '[include]\n\tpath = more/inner.gitconfig\n');
    const facts = discoverProtected(dir, { worktreeRules: WORKTREE_RULES });
    const byPath = new Map(facts.roots[0]?.candidates.map((c) => [c.path, c]));
    expect(byPath.get('.gitconfig')).toMatchObject({ found: 'file', rule: { kind: 'file' } });
    expect(byPath.get('absent.gitconfig')).toMatchObject({ found: 'absent', rule: { kind: 'file', stub: '' } });
    expect(byPath.get('more/inner.gitconfig')).toMatchObject({ found: 'absent', rule: { kind: 'file', stub: '' } });
  });

  it('finds nested repositories and worktrees, skipping dependency trees, within its bounds', () => {
    mkdirSync(join(dir, 'libs/a/.git'), { recursive: true });
    mkdirSync(join(dir, 'wt'), { recursive: true });
    writeFileSync(join(dir, 'wt/.git'), 'gitdir: /elsewhere\n');
    mkdirSync(join(dir, 'node_modules/x/.git'), { recursive: true });
    mkdirSync(join(dir, 'd1/d2/d3/.git'), { recursive: true });
    expect(findNestedRepos(dir).repos.sort()).toEqual(['d1/d2/d3', 'libs/a', 'wt']);
    const shallow = findNestedRepos(dir, { maxDepth: 2, maxEntries: 1000, maxRepos: 10 });
    expect(shallow.repos.sort()).toEqual(['libs/a', 'wt']);
    expect(shallow.truncated).toBe(true);
  });

  it('lists the git directory, submodule and worktree git directories, hooksPath and nested trees', () => {
    mkdirSync(join(dir, '.git/hooks'), { recursive: true });
    writeFileSync(join(dir, '.git/config'), '[core]\n\thooksPath = .husky\n');
    mkdirSync(join(dir, '.git/modules/sub/hooks'), { recursive: true });
    mkdirSync(join(dir, '.git/worktrees/w1'), { recursive: true });
    writeFileSync(join(dir, '.git/worktrees/w1/commondir'), '../..\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/.git'), 'gitdir: ../.git/modules/sub\n');
    symlinkSync('/etc/passwd', join(dir, '.envrc'));
    const facts = discoverProtected(dir, { worktreeRules: WORKTREE_RULES, privateSettings: '/state/copy.json' });
    const root = facts.roots[0];
    expect(root?.candidates.find((c) => c.path === '.claude/settings.local.json')).toMatchObject({
      found: 'absent',
      privateSource: '/state/copy.json',
    });
    const byPath = new Map(root?.candidates.map((c) => [c.path, c]));
    expect(byPath.get('.git/hooks')?.found).toBe('dir');
    expect(byPath.get('.git/config')?.found).toBe('file');
    expect(byPath.get('.git/commondir')).toMatchObject({ found: 'absent', rule: { stub: '.\n' } });
    expect(byPath.get('.git/modules/sub/hooks')?.found).toBe('dir');
    expect(byPath.get('.git/modules/sub/config')?.found).toBe('absent');
    expect(byPath.get('.git/worktrees/w1/commondir')?.found).toBe('file');
    // Locked for the session: git worktree prune (and git gc) inside would delete the host worktree's HEAD and index.
    expect(byPath.get('.git/worktrees/w1/locked')).toMatchObject({
      found: 'absent',
      rule: { kind: 'file', stub: expect.stringContaining('mino') },
    });
    expect(byPath.get('.husky')).toMatchObject({ found: 'absent', rule: { kind: 'dir', stub: '' } });
    expect(byPath.get('sub/.git')).toMatchObject({ found: 'file' });
    // Nested trees: directories stubbed, files not (they would show as untracked files).
    expect(byPath.get('sub/.mcp.json')?.rule.stub).toBeUndefined();
    expect(byPath.get('sub/.vscode')?.rule.stub).toBe('');
    expect(byPath.get('.envrc')?.found).toBe('symlink');
    expect(root?.ancestors['.git']).toBe('dir');
    expect(root?.ancestors.sub).toBe('dir');
  });

  it('finds the git directory of a submodule whose name holds a slash (.git/modules/libs/foo)', () => {
    mkdirSync(join(dir, '.git/modules/libs/foo/hooks'), { recursive: true });
    writeFileSync(join(dir, '.git/modules/libs/foo/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, '.git/modules/libs/foo/config'), '[core]\n');
    mkdirSync(join(dir, '.git/modules/libs/foo/modules/deep/x/hooks'), { recursive: true });
    const facts = discoverProtected(dir, { worktreeRules: WORKTREE_RULES });
    const byPath = new Map(facts.roots[0]?.candidates.map((c) => [c.path, c]));
    expect(byPath.get('.git/modules/libs/foo/hooks')?.found).toBe('dir');
    expect(byPath.get('.git/modules/libs/foo/config')?.found).toBe('file');
    expect(byPath.get('.git/modules/libs/foo/modules/deep/x/hooks')?.found).toBe('dir');
    // The folder between is no git directory: no stand-ins there.
    expect(byPath.has('.git/modules/libs/hooks')).toBe(false);
  });

  it("protects a submodule's core.hooksPath inside its tree (read from the git directory its .git file names)", () => {
    mkdirSync(join(dir, '.git/modules/sub/hooks'), { recursive: true });
    writeFileSync(join(dir, '.git/modules/sub/config'), '[core]\n\thooksPath = .husky\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/.git'), 'gitdir: ../.git/modules/sub\n');
    const facts = discoverProtected(dir, { worktreeRules: WORKTREE_RULES });
    expect(facts.roots[0]?.candidates.find((c) => c.path === 'sub/.husky')).toMatchObject({
      found: 'absent',
      rule: { kind: 'dir', stub: '' },
    });
  });

  it("protects the repository's core.hooksPath in a linked worktree inside the project (git runs it from there for commits in the worktree)", () => {
    mkdirSync(join(dir, '.git/worktrees/wt'), { recursive: true });
    writeFileSync(join(dir, '.git/config'), '[core]\n\thooksPath = .husky\n');
    writeFileSync(join(dir, '.git/worktrees/wt/commondir'), '../..\n');
    mkdirSync(join(dir, 'wt'));
    writeFileSync(join(dir, 'wt/.git'), `gitdir: ${join(dir, '.git/worktrees/wt')}\n`);
    const facts = discoverProtected(dir, { worktreeRules: WORKTREE_RULES });
    expect(facts.roots[0]?.candidates.find((c) => c.path === 'wt/.husky')).toMatchObject({
      found: 'absent',
      rule: { kind: 'dir', stub: '' },
    });
  });

  it('adds read-write volume directories as roots without stubs', () => {
    const vol = join(dir, 'vol');
    mkdirSync(join(vol, '.vscode'), { recursive: true });
    mkdirSync(join(dir, 'proj'));
    const facts = discoverProtected(join(dir, 'proj'), { worktreeRules: WORKTREE_RULES, volumeDirs: [vol] });
    expect(facts.roots[1]).toMatchObject({ hostDir: vol, stubs: false });
    expect(facts.roots[1]?.candidates.find((c) => c.path === '.vscode')?.found).toBe('dir');
  });

  it('protects the repositories in a read-write volume, the project when the volume holds it, and Claude Code local settings of nested trees', () => {
    const vol = join(dir, 'code');
    mkdirSync(join(vol, 'app/.git/hooks'), { recursive: true });
    writeFileSync(join(vol, 'app/.git/config'), '[core]\n');
    mkdirSync(join(vol, 'other/.git/hooks'), { recursive: true });
    mkdirSync(join(vol, 'other/.claude'), { recursive: true });
    writeFileSync(join(vol, 'other/.claude/settings.local.json'), '{}\n');
    mkdirSync(join(vol, 'app/inner/.claude'), { recursive: true });
    mkdirSync(join(vol, 'app/inner/.git'), { recursive: true });
    writeFileSync(join(vol, 'app/inner/.claude/settings.local.json'), '{}\n');
    const facts = discoverProtected(join(vol, 'app'), { worktreeRules: WORKTREE_RULES, volumeDirs: [vol] });
    const inProject = new Map(facts.roots[0]?.candidates.map((c) => [c.path, c]));
    expect(inProject.get('inner/.claude/settings.local.json')).toMatchObject({ found: 'file', rule: { kind: 'file' } });
    const inVolume = new Map(facts.roots[1]?.candidates.map((c) => [c.path, c]));
    expect(inVolume.get('app/.git/hooks')?.found).toBe('dir');
    expect(inVolume.get('app/.git/config')?.found).toBe('file');
    // The project's stand-ins are made by the project's plan; through the volume they are protected too.
    expect(inVolume.get('app/.envrc')).toMatchObject({ found: 'absent', rule: { stub: '' }, mayStub: true });
    expect(inVolume.get('app/.claude/settings.local.json')).toMatchObject({
      found: 'absent',
      rule: { stub: '{}\n' },
      mayStub: true,
    });
    expect(inVolume.get('other/.envrc')?.mayStub).toBeUndefined();
    expect(inVolume.get('other/.git/hooks')?.found).toBe('dir');
    expect(inVolume.get('other/.claude/settings.local.json')?.found).toBe('file');
  });

  it.runIf((process.getuid?.() ?? 0) !== 0)(
    'plans no stand-in where it could not create one (a project the user cannot write)',
    () => {
      mkdirSync(join(dir, 'ro'), { mode: 0o555 });
      const facts = discoverProtected(join(dir, 'ro'), { worktreeRules: WORKTREE_RULES });
      expect(facts.roots[0]?.candidates.find((c) => c.path === '.mcp.json')?.rule.stub).toBeUndefined();
    },
  );
});
