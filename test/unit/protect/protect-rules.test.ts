import { describe, expect, it } from 'vitest';
import {
  checkProtectPath,
  effectiveRules,
  gitExcludeText,
  protectPathProblem,
  WORKTREE_RULES,
} from '../../../src/protect/protect-rules.js';

describe('protected path rules', () => {
  it('protects the paths host tools obey by default', () => {
    const paths = WORKTREE_RULES.map((r) => r.path);
    for (const p of [
      '.gitmodules',
      '.envrc',
      '.mcp.json',
      '.claude/settings.json',
      '.claude/commands',
      '.claude/agents',
      '.claude/hooks',
      '.vscode',
      '.idea',
      '.devcontainer',
      '.bashrc',
      '.zshrc',
      '.profile',
    ]) {
      expect(paths).toContain(p);
    }
    // JSON settings get valid JSON as their stand-in, never empty text.
    expect(WORKTREE_RULES.find((r) => r.path === '.mcp.json')?.stub).toBe('{}\n');
    expect(WORKTREE_RULES.find((r) => r.path === '.claude/settings.json')?.stub).toBe('{}\n');
  });

  it('refuses absolute, parent, empty and control-character paths', () => {
    expect(protectPathProblem('/etc/passwd')).toMatch(/relative/);
    expect(protectPathProblem('a/../b')).toMatch(/'\.\.'/);
    expect(protectPathProblem('..')).toMatch(/'\.\.'/);
    expect(protectPathProblem('')).toMatch(/empty/);
    expect(protectPathProblem('a\0b')).toMatch(/control/);
    expect(protectPathProblem('a//b')).toMatch(/empty/);
    expect(protectPathProblem('.husky/')).toBeUndefined();
    expect(() => checkProtectPath('../x')).toThrow(/Invalid protected path '\.\.\/x'/);
    expect(checkProtectPath('.husky/')).toEqual({ path: '.husky', kind: 'dir' });
    expect(checkProtectPath('Makefile')).toEqual({ path: 'Makefile', kind: 'file' });
  });

  it('adds user paths and removes a default only with a warning', () => {
    const rules = effectiveRules(['.husky/', 'Makefile'], ['.idea/']);
    expect(rules.worktree.map((r) => r.path)).not.toContain('.idea');
    expect(rules.worktree).toContainEqual({ path: '.husky', kind: 'dir', stub: '' });
    expect(rules.worktree).toContainEqual({ path: 'Makefile', kind: 'file', stub: '' });
    expect(rules.warnings).toEqual([expect.stringMatching(/^\.idea is not protected \(protect\.unprotect/)]);
    expect(effectiveRules([], ['nothing']).warnings).toEqual([
      expect.stringMatching(/not protected by default: nothing removed/),
    ]);
    expect(effectiveRules([], []).warnings).toEqual([]);
  });

  it('lists the file stand-ins, anchored at the top of the repository, in the git excludes', () => {
    const text = gitExcludeText(WORKTREE_RULES);
    expect(text.split('\n')).toEqual(
      expect.arrayContaining([
        '/.mcp.json',
        '/.envrc',
        '/.gitmodules',
        '/.claude/settings.json',
        '/.claude/settings.local.json',
      ]),
    );
    expect(text).not.toContain('.bashrc');
    expect(text).not.toContain('/.vscode');
  });
});
