import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { ROOTLESS_USER, uidOf } from '../../helpers/test-env.js';
import { git, gitImage, makeRepo } from './branch-helpers.js';

requirePrerequisites();

/**
 * Branch sessions end to end (issue 23): `mino run --branch` works on a working copy of its own
 * (the host's uncommitted work and files untouched and unseen), the agent's commits come home as
 * exactly mino/NAME and its uncommitted work on refs/mino/wip/NAME (no tag, no other branch, no
 * host hook or config), the copy's protected git files stay protected, the host's objects are
 * read-only; `mino list` and `mino diff` show the work; three sessions at once never see each
 * other's files; `mino fork` carries the branch and the uncommitted work; `mino branch prune`
 * removes only merged, clean, ended copies; bad input changes nothing (warm branch sessions:
 * branch-pool.test.ts). The image is the busybox test image with the host's git copied in.
 */

const sandboxes: Sandbox[] = [];
afterAll(() => {
  for (const s of sandboxes) s.cleanup();
});

const AGENT = [
  'set -u',
  'G="git -c user.name=agent -c user.email=a@x"',
  // The branch starts at HEAD: the host's uncommitted work is not here.
  'test "$(cat a.txt)" = a || echo "HOLE sees host-dirty"',
  'test -e host-untracked.txt && echo "HOLE sees host-untracked"',
  'echo b > b.txt && $G add b.txt && $G commit -qm agent-commit || echo "FAIL commit"',
  '$G tag evil-tag; $G branch other-branch',
  // Protected git files of the copy, and the host objects, are read-only.
  'echo "echo pwned" > .git/hooks/pre-commit 2>/dev/null && echo "HOLE hook"',
  'git config core.fsmonitor "echo pwned" 2>/dev/null && echo "HOLE config"',
  'touch /.mino-origin/objects/x 2>/dev/null && echo "HOLE host objects writable"',
  'echo wip > c.txt',
  'echo kept > "$HOME/note"',
  'echo "AGENT-DONE $(id -u)"',
].join('\n');

for (const as of MODES) {
  describe(`branch sessions [${modeLabel(as)}]`, () => {
    const s = new Sandbox(as);
    sandboxes.push(s);
    const project = makeRepo(s, as, 'proj');
    const flags = (): string[] => [
      '-p',
      project,
      '--image',
      gitImage(as),
      '--network',
      'none',
      '--no-home',
      '--no-cache',
    ];
    const owner = as === 'rootless' ? uidOf(ROOTLESS_USER)! : 0;

    it('works on its own copy; exactly mino/NAME comes home, uncommitted work on refs/mino/wip/NAME, the host untouched', async () => {
      const hostConfig = readFileSync(join(project, '.git/config'), 'utf8');
      // With its home volume (fork copies it).
      const withHome = flags().filter((f) => f !== '--no-home');
      const r = await s.mino(['run', '-b', 'feat', ...withHome, '--', 'sh', '-c', AGENT]);
      expect(r.stdout.split('\n').filter((l) => /^(HOLE|FAIL)/.test(l))).toEqual([]);
      expect(r.stdout).toContain('AGENT-DONE 1000');
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toContain('Branch mino/feat: a new working copy from main');
      expect(r.stderr).toContain('your uncommitted changes');
      expect(r.stderr).toMatch(/Branch mino\/feat is in .* \(1 commit since/);
      expect(git(project, 'log', '--format=%s', 'mino/feat')).toBe('agent-commit\ninitial');
      expect(git(project, 'show', 'refs/mino/wip/feat:c.txt')).toBe('wip');
      expect(git(project, 'tag')).toBe('');
      expect(git(project, 'branch', '--list', 'other-branch')).toBe('');
      expect(readFileSync(join(project, '.git/config'), 'utf8')).toBe(hostConfig);
      expect(readdirSync(join(project, '.git/hooks')).filter((f) => !f.endsWith('.sample'))).toEqual([]);
      expect(readFileSync(join(project, 'a.txt'), 'utf8')).toBe('host-dirty\n');
      expect(existsSync(join(project, 'b.txt'))).toBe(false);
      // The agent's files in the copy are the user's (rootless: the host user through keep-id).
      const listed = await s.mino(['list', '-a', '-f', 'json']);
      const record = (
        JSON.parse(listed.stdout) as {
          name: string;
          branch?: string;
          ahead?: number;
          project_dir: string;
          home_volume: string;
        }[]
      ).find((x) => x.name === 'feat');
      expect(record).toMatchObject({ branch: 'feat', ahead: 1 });
      s.track(record!.home_volume);
      expect(statSync(join(record!.project_dir, 'b.txt')).uid).toBe(owner);
      const table = await s.mino(['list', '-a']);
      expect(table.stdout).toMatch(/BRANCH\s+AHEAD/);
      expect(table.stdout).toMatch(/feat .*mino\/feat\s+1\s+proj/);
      const diff = await s.mino(['diff', 'feat', '--stat']);
      expect(diff.exitCode).toBe(0);
      expect(diff.stdout).toMatch(/b\.txt[\s\S]*c\.txt/);
      // Continued: the next session on the branch finds its commit and its uncommitted work.
      const again = await s.mino(['run', '-b', 'feat', ...withHome, '--', 'sh', '-c', 'cat b.txt c.txt']);
      expect(again.stdout).toBe('b\nwip\n');
      expect(again.stderr).toContain('continuing its working copy');
    }, 120_000);

    // Once (the copies are the same in both modes; bench/branch.mjs runs 8 at once).
    if (as === MODES[0])
      it('three sessions at once on one project never see each other’s files, and all come home', async () => {
        const runs = [1, 2, 3].map((n) =>
          s.mino([
            'run',
            '-b',
            `par${n}`,
            ...flags(),
            '--',
            'sh',
            '-c',
            `echo ${n} > mine-${n}.txt; sleep 1; ls; git add -A; git -c user.name=a -c user.email=a@x commit -qm par${n}`,
          ]),
        );
        const results = await Promise.all(runs);
        for (const [i, r] of results.entries()) {
          expect(r.exitCode, r.stderr).toBe(0);
          expect(r.stdout.split('\n').filter((l) => l.startsWith('mine-'))).toEqual([`mine-${i + 1}.txt`]);
          expect(git(project, 'show', `mino/par${i + 1}:mine-${i + 1}.txt`)).toBe(String(i + 1));
        }
      }, 120_000);

    it('fork carries the branch and its uncommitted work; prune removes only merged, clean, ended copies', async () => {
      const fork = await s.mino([
        'fork',
        'feat',
        'feat2',
        ...flags()
          .slice(2)
          .filter((f) => f !== '--no-home'),
        '--',
        'sh',
        '-c',
        'cat b.txt c.txt; git status --porcelain; git add -A; git -c user.name=a -c user.email=a@x commit -qm fork; stat -c "%u %n" "$HOME/note"',
      ]);
      expect(fork.exitCode, fork.stderr).toBe(0);
      // The branch, the uncommitted work and the home volume (its files still the session user's).
      expect(fork.stdout).toBe('b\nwip\n?? c.txt\n1000 /home/developer/note\n');
      const forked = (
        JSON.parse((await s.mino(['list', '-a', '-f', 'json'])).stdout) as { name: string; home_volume: string }[]
      ).find((x) => x.name === 'feat2');
      s.track(forked!.home_volume);
      expect(git(project, 'log', '--format=%s', 'mino/feat2')).toBe('fork\nagent-commit\ninitial');
      // A session running on its copy keeps it.
      const start = git(project, 'rev-parse', 'main');
      const live = await s.mino(['run', '-d', '-b', 'live', ...flags(), '--', 'sleep', '60']);
      expect(live.exitCode, live.stderr).toBe(0);
      git(project, 'stash', '-q', '-u');
      git(project, 'merge', '-q', '--ff-only', 'mino/feat2');
      const pruned = await s.mino(['branch', 'prune']);
      expect(pruned.exitCode, pruned.stderr).toBe(0);
      expect(pruned.stdout).toContain('removed mino/feat2');
      expect(podmanAs(as, ['volume', 'exists', forked!.home_volume]).status).toBe(1);
      expect(pruned.stdout).toMatch(/kept mino\/feat .*uncommitted work/);
      expect(pruned.stdout).toMatch(/kept mino\/live .*session live is running/);
      if (as === MODES[0]) expect(pruned.stdout).toMatch(/kept mino\/par1 .*not merged/);
      const stop = await s.mino(['stop', '-f', 'live']);
      expect(stop.exitCode).toBe(0);
      expect(stop.stderr).toMatch(/Branch mino\/live is in .* \(0 commits since/);
      expect(git(project, 'rev-parse', 'mino/live')).toBe(start);
    }, 120_000);

    if (as === MODES[0]) {
      it('bad input: one clear error each, exit 2, nothing made', async () => {
        const b = new Sandbox(as);
        sandboxes.push(b);
        const plain = b.project('plain');
        const repo = makeRepo(b, as, 'repo');
        const base = ['--image', gitImage(as), '--no-home', '--no-cache', '--network', 'none'];
        const cases: [string[], RegExp][] = [
          [['run', '-b', 'x', '-p', plain, ...base, '--', 'true'], /needs a git repository/],
          [['run', '-b', 'a..b', '-p', repo, ...base, '--', 'true'], /Invalid branch name/],
          [['fork', 'nobody', '-p', repo, ...base, '--', 'true'], /Session 'nobody' not found/],
          [['diff', 'nobody'], /Session 'nobody' not found/],
        ];
        for (const [args, message] of cases) {
          const r = await b.mino(args);
          expect(r.stderr, args.join(' ')).toMatch(message);
          expect(r.exitCode, args.join(' ')).toBe(2);
        }
        git(repo, 'checkout', '-q', '-b', 'mino/here');
        let r = await b.mino(['run', '-b', 'here', '-p', repo, ...base, '--', 'true']);
        expect(r.stderr).toMatch(/checked out in/);
        expect(r.exitCode).toBe(2);
        git(repo, 'checkout', '-q', '--detach');
        r = await b.mino(['run', '-b', 'x', '-p', repo, ...base, '--', 'true']);
        expect(r.stderr).toMatch(/detached HEAD/);
        expect(r.exitCode).toBe(2);
        expect(existsSync(join(b.env.XDG_DATA_HOME as string, 'mino', 'branches'))).toBe(false);
        expect(readFileSync(join(repo, 'a.txt'), 'utf8')).toBe('host-dirty\n');
      }, 60_000);
    }
  });
}
