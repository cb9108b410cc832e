import { describe, expect, it } from 'vitest';
import { filterGitConfig } from '../../../src/protect/git-config-filter.js';

describe('git config filter', () => {
  it('keeps what git init and git clone write', () => {
    const text = [
      '[core]',
      '\trepositoryformatversion = 0',
      '\tfilemode = true',
      '\tbare = false',
      '\tlogallrefupdates = true',
      '[remote "origin"]',
      '\turl = https://example.invalid/x.git',
      '\tfetch = +refs/heads/*:refs/remotes/origin/*',
      '[branch "main"]',
      '\tremote = origin',
      '\tmerge = refs/heads/main',
      '',
    ].join('\n');
    const out = filterGitConfig(text);
    expect(out.dropped).toEqual([]);
    expect(out.text).toBe(text);
  });

  it('drops every setting that runs a program, whatever its spelling', () => {
    const text = [
      '[core]',
      '\tbare = false',
      '\tfsmonitor = touch /tmp/x',
      '\tPager = less',
      '\thooksPath = .h',
      '[alias]',
      '\tst = !sh -c evil',
      '[filter "lfs"]',
      '\tsmudge = evil %f',
      '[diff "x"]',
      '\ttextconv = evil',
      '[include]',
      '\tpath = ../other',
      '[credential]',
      '\thelper = evil',
      '[Core]',
      '\tsshCommand = evil',
      '[core.x]',
      '\teditor = evil',
    ].join('\n');
    const out = filterGitConfig(text);
    expect(out.dropped).toEqual([
      'core.fsmonitor',
      'core.pager',
      'core.hookspath',
      'alias.st',
      'filter.lfs.smudge',
      'diff.x.textconv',
      'include.path',
      'credential.helper',
      'core.sshcommand',
      'core.x.editor',
    ]);
    expect(out.text).toBe('[core]\n\tbare = false\n');
  });

  it('keeps core.worktree only where the caller accepts it', () => {
    const text = '[core]\n\tworktree = ../../../lib\n';
    expect(filterGitConfig(text).dropped).toEqual(['core.worktree']);
    expect(filterGitConfig(text, (v) => v === '../../../lib')).toEqual({ text, dropped: [] });
  });

  it('reads a key on its section line and bare booleans', () => {
    const out = filterGitConfig('[core] bare\n[core] fsmonitor = x\n');
    expect(out.text).toBe('[core]\n\tbare\n');
    expect(out.dropped).toEqual(['core.fsmonitor']);
  });

  it('gives up on a value continued over lines (its next line must not pass as a key)', () => {
    expect(filterGitConfig('[core]\n\tbare = false \\\nfsmonitor = x\n')).toEqual({ text: '', dropped: ['?'] });
  });

  it('counts a line it cannot read, or a key before any section, as unsafe', () => {
    expect(filterGitConfig('bare = true\n').dropped).toEqual(['?']);
    expect(filterGitConfig('[core]\n\t"odd" line\n').dropped).toEqual(['?']);
  });
});
