import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkEndedSessionsRepos, checkSessionRepos, recordRepos } from '../../../src/lifecycle/session-repo-guard.js';
import type { SessionStore } from '../../../src/session/session-store.js';

/** A repository with a hook and a pager in its config, as a session could make one. */
function plant(project: string, dir: string): void {
  const git = join(project, dir, '.git');
  for (const d of ['objects', 'refs', 'hooks']) mkdirSync(join(git, d), { recursive: true });
  writeFileSync(join(git, 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(git, 'config'), '[core]\n\tbare = false\n\tpager = evil\n');
  writeFileSync(join(git, 'hooks/pre-commit'), '#!/bin/sh\n');
}

/** A session store that knows only the given sessions' statuses. */
function storeOf(statuses: Record<string, string>): SessionStore {
  return {
    get: (name: string) => (name in statuses ? { name, status: statuses[name] } : undefined),
  } as unknown as SessionStore;
}

describe('the repositories of a session', () => {
  let state: string;
  let project: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-repo-state-'));
    project = mkdtempSync(join(tmpdir(), 'mino-repo-proj-'));
  });
  afterEach(() => {
    rmSync(state, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  it('are checked at the end against the record made at the start, which then goes', () => {
    recordRepos(state, 's1', project);
    plant(project, 'a');
    const lines = checkSessionRepos(state, 's1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^the session made a git repository at .*\/a\/\.git;/);
    expect(existsSync(join(project, 'a/.git/hooks.mino-disabled/pre-commit'))).toBe(true);
    expect(readdirSync(join(state, 'repo-guard')).filter((n) => n.endsWith('.json'))).toEqual([]);
    expect(checkSessionRepos(state, 's1')).toEqual([]);
  });

  it('at mino sync of a running session: checked, the record kept for its end', () => {
    recordRepos(state, 's2', project);
    plant(project, 'a');
    expect(checkSessionRepos(state, 's2', undefined, undefined, true)).toHaveLength(1);
    expect(existsSync(join(state, 'repo-guard', 's2.json'))).toBe(true);
    plant(project, 'b');
    // The end finds what came since (a/ is made harmless already: nothing more to say of it).
    const lines = checkSessionRepos(state, 's2');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('/b/.git');
    expect(existsSync(join(state, 'repo-guard', 's2.json'))).toBe(false);
  });

  it("a killed run's or an ended detached session's record is checked once its session is not active", () => {
    recordRepos(state, 'live', project);
    recordRepos(state, 'dead', project);
    plant(project, 'b');
    // The live session's record stays; the ended one's is checked and goes.
    expect(checkEndedSessionsRepos(state, storeOf({ live: 'running', dead: 'exited' }), project)).toHaveLength(1);
    expect(readdirSync(join(state, 'repo-guard')).filter((n) => n.endsWith('.json'))).toEqual(['live.json']);
    // Another project's records are not this run's business.
    expect(checkEndedSessionsRepos(state, storeOf({}), '/elsewhere')).toEqual([]);
    // A session with no record left at all (removed) counts as ended.
    plant(project, 'c');
    expect(checkEndedSessionsRepos(state, storeOf({}))).toHaveLength(1);
    expect(existsSync(join(project, 'c/.git/hooks.mino-disabled'))).toBe(true);
  });

  it('keeps the record of a session whose file cannot be read (it may still run), and never throws', () => {
    recordRepos(state, 'garbled', project);
    plant(project, 'd');
    const unreadable = {
      get: () => {
        throw new Error('Session file is unreadable');
      },
    } as unknown as SessionStore;
    expect(checkEndedSessionsRepos(state, unreadable)).toEqual([]);
    expect(existsSync(join(state, 'repo-guard', 'garbled.json'))).toBe(true);
    expect(existsSync(join(project, 'd/.git/hooks/pre-commit'))).toBe(true);
  });
});
