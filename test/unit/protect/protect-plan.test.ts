import { describe, expect, it } from 'vitest';
import { planProtection, type ProtectRoot } from '../../../src/protect/protect-plan.js';

const project = { source: '/p', target: '/w/p', readOnly: false };

function root(
  candidates: ProtectRoot['candidates'],
  ancestors: ProtectRoot['ancestors'] = {},
  stubs = true,
): ProtectRoot {
  return { hostDir: '/p', stubs, candidates, ancestors };
}

describe('planProtection', () => {
  it('mounts existing paths read-only onto themselves and pins every parent folder read-write', () => {
    const plan = planProtection(
      {
        roots: [
          root(
            [
              { path: '.git/hooks', rule: { kind: 'dir', stub: '' }, found: 'dir' },
              { path: '.git/config', rule: { kind: 'file' }, found: 'file' },
              { path: '.vscode', rule: { kind: 'dir', stub: '' }, found: 'dir' },
            ],
            { '.git': 'dir' },
          ),
        ],
      },
      [project],
    );
    expect(plan.mounts).toEqual([
      { source: '/p/.git', target: '/w/p/.git', readOnly: false },
      { source: '/p/.vscode', target: '/w/p/.vscode', readOnly: true },
      { source: '/p/.git/config', target: '/w/p/.git/config', readOnly: true },
      { source: '/p/.git/hooks', target: '/w/p/.git/hooks', readOnly: true },
    ]);
    expect(plan.stubs).toEqual([]);
    expect(plan.entries.map((e) => e.state)).toEqual(['read-only', 'read-only', 'read-only']);
  });

  it('plans stubs for absent paths, parents first, and leaves absent stub-less paths alone', () => {
    const plan = planProtection(
      {
        roots: [
          root(
            [
              { path: '.claude/settings.json', rule: { kind: 'file', stub: '{}\n' }, found: 'absent' },
              { path: '.claude/commands', rule: { kind: 'dir', stub: '' }, found: 'absent' },
              { path: '.bashrc', rule: { kind: 'file' }, found: 'absent' },
            ],
            { '.claude': 'absent' },
          ),
        ],
      },
      [project],
    );
    expect(plan.stubs).toEqual([
      { hostPath: '/p/.claude', kind: 'dir', content: '' },
      { hostPath: '/p/.claude/commands', kind: 'dir', content: '' },
      { hostPath: '/p/.claude/settings.json', kind: 'file', content: '{}\n' },
    ]);
    expect(plan.mounts.map((m) => `${m.target}:${m.readOnly ? 'ro' : 'rw'}`)).toEqual([
      '/w/p/.claude:rw',
      '/w/p/.claude/commands:ro',
      '/w/p/.claude/settings.json:ro',
    ]);
    expect(plan.entries.find((e) => e.hostPath === '/p/.bashrc')?.state).toBe('absent');
  });

  it('does not create stubs in a root that does not allow them (a volume)', () => {
    const plan = planProtection(
      { roots: [root([{ path: '.envrc', rule: { kind: 'file', stub: '' }, found: 'absent' }], {}, false)] },
      [project],
    );
    expect(plan.stubs).toEqual([]);
    expect(plan.mounts).toEqual([]);
  });

  it('warns about symbolic links instead of mounting over or through them', () => {
    const plan = planProtection(
      {
        roots: [
          root(
            [
              { path: '.envrc', rule: { kind: 'file', stub: '' }, found: 'symlink' },
              { path: '.claude/settings.json', rule: { kind: 'file', stub: '{}\n' }, found: 'absent' },
            ],
            { '.claude': 'symlink' },
          ),
        ],
      },
      [project],
    );
    expect(plan.mounts).toEqual([]);
    expect(plan.stubs).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/\/p\/\.envrc is not protected: it is a symbolic link/),
      expect.stringMatching(/\/p\/\.claude\/settings\.json is not protected: \/p\/\.claude is not a directory/),
    ]);
  });

  it('covers a path inside a protected folder by the folder, and skips roots that are not read-write mounts', () => {
    const plan = planProtection(
      {
        roots: [
          root([
            { path: '.husky', rule: { kind: 'dir', stub: '' }, found: 'dir' },
            { path: '.husky/pre-commit', rule: { kind: 'file' }, found: 'file' },
          ]),
          {
            hostDir: '/ro',
            stubs: false,
            ancestors: {},
            candidates: [{ path: '.envrc', rule: { kind: 'file' }, found: 'file' }],
          },
        ],
      },
      [project, { source: '/ro', target: '/ro', readOnly: true }],
    );
    expect(plan.mounts).toEqual([{ source: '/p/.husky', target: '/w/p/.husky', readOnly: true }]);
  });

  it('leaves a path to a mount of the user at or below it', () => {
    const plan = planProtection(
      { roots: [root([{ path: '.vscode', rule: { kind: 'dir', stub: '' }, found: 'dir' }])] },
      [project, { source: '/elsewhere', target: '/w/p/.vscode/x', readOnly: false }],
    );
    expect(plan.mounts).toEqual([]);
  });

  it('protects the project under every read-write mount of it (the project given again as a --volume), one stand-in each', () => {
    const plan = planProtection(
      {
        roots: [
          root(
            [
              { path: '.git/config', rule: { kind: 'file' }, found: 'file' },
              { path: '.envrc', rule: { kind: 'file', stub: '' }, found: 'absent' },
            ],
            { '.git': 'dir' },
          ),
        ],
      },
      [project, { source: '/p', target: '/again', readOnly: false }],
    );
    expect(plan.mounts.map((m) => `${m.target}:${m.readOnly ? 'ro' : 'rw'}`).sort()).toEqual([
      '/again/.envrc:ro',
      '/again/.git/config:ro',
      '/again/.git:rw',
      '/w/p/.envrc:ro',
      '/w/p/.git/config:ro',
      '/w/p/.git:rw',
    ]);
    expect(plan.stubs).toEqual([{ hostPath: '/p/.envrc', kind: 'file', content: '' }]);
  });

  it('protects the stand-ins of the project held by a volume through that volume, made once', () => {
    const plan = planProtection(
      {
        roots: [
          root([{ path: '.envrc', rule: { kind: 'file', stub: '' }, found: 'absent' }]),
          {
            hostDir: '/',
            stubs: false,
            ancestors: { p: 'dir' },
            candidates: [
              { path: 'p/.envrc', rule: { kind: 'file', stub: '' }, found: 'absent', mayStub: true },
              { path: 'q/.envrc', rule: { kind: 'file', stub: '' }, found: 'absent' },
            ],
          },
        ],
      },
      [project, { source: '/', target: '/all', readOnly: false }],
    );
    expect(plan.mounts.map((m) => `${m.target}:${m.readOnly ? 'ro' : 'rw'}`)).toEqual([
      '/w/p/.envrc:ro',
      '/all/p:rw',
      '/all/p/.envrc:ro',
    ]);
    expect(plan.stubs).toEqual([{ hostPath: '/p/.envrc', kind: 'file', content: '' }]);
  });

  it('pins every folder between the project and a nested repository', () => {
    const plan = planProtection(
      {
        roots: [
          root([{ path: 'a/b/.git/hooks', rule: { kind: 'dir', stub: '' }, found: 'dir' }], {
            a: 'dir',
            'a/b': 'dir',
            'a/b/.git': 'dir',
          }),
        ],
      },
      [project],
    );
    expect(plan.mounts.map((m) => `${m.target}:${m.readOnly ? 'ro' : 'rw'}`)).toEqual([
      '/w/p/a:rw',
      '/w/p/a/b:rw',
      '/w/p/a/b/.git:rw',
      '/w/p/a/b/.git/hooks:ro',
    ]);
  });

  it('mounts a private copy read-write over a path with a private source, with a stand-in when absent', () => {
    const plan = planProtection(
      {
        roots: [
          root(
            [
              {
                path: '.claude/settings.local.json',
                rule: { kind: 'file', stub: '{}\n' },
                found: 'absent',
                privateSource: '/state/p/settings.local.json',
              },
            ],
            { '.claude': 'dir' },
          ),
        ],
      },
      [project],
    );
    expect(plan.mounts).toEqual([
      { source: '/p/.claude', target: '/w/p/.claude', readOnly: false },
      { source: '/state/p/settings.local.json', target: '/w/p/.claude/settings.local.json', readOnly: false },
    ]);
    expect(plan.stubs).toEqual([{ hostPath: '/p/.claude/settings.local.json', kind: 'file', content: '{}\n' }]);
    expect(plan.entries).toEqual([
      {
        hostPath: '/p/.claude/settings.local.json',
        containerPath: '/w/p/.claude/settings.local.json',
        state: 'private',
      },
    ]);
  });

  it('hides file stand-ins from git inside the session when a git excludes file is given, before and after they exist', () => {
    const facts = {
      gitExclude: '/state/git-exclude',
      roots: [root([{ path: '.mcp.json', rule: { kind: 'file' as const, stub: '{}\n' }, found: 'absent' as const }])],
    };
    const plan = planProtection(facts, [project]);
    expect(plan.mounts).toContainEqual({
      source: '/state/git-exclude',
      target: '/run/mino/git-exclude',
      readOnly: true,
    });
    expect(plan.env).toEqual({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'core.excludesFile',
      GIT_CONFIG_VALUE_0: '/run/mino/git-exclude',
    });
    // The same once the stand-in exists (a warm container's plan equals the pooled run's); none without stand-ins.
    const again = planProtection(
      { ...facts, roots: [root([{ path: '.mcp.json', rule: { kind: 'file', stub: '{}\n' }, found: 'file' }])] },
      [project],
    );
    expect(again.env).toEqual(plan.env);
    const none = planProtection({ ...facts, roots: [root([], {}, false)] }, [project]);
    expect(none.env).toEqual({});
    expect(none.mounts).toEqual([]);
  });
});
