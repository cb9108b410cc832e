import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import type { RunAs } from '../../helpers/run-mino.js';
import { MODES, Sandbox, buildContext, buildTestImage, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE, uidOf } from '../../helpers/test-env.js';

requirePrerequisites();

/**
 * Branch sessions end to end (issue 23): `mino run --branch` works on a working copy of its own
 * (the host's uncommitted work and files untouched and unseen), the agent's commits come home as
 * exactly mino/NAME and its uncommitted work on refs/mino/wip/NAME (no tag, no other branch, no
 * host hook or config), the copy's protected git files stay protected, the host's objects are
 * read-only; `mino list` and `mino diff` show the work; three sessions at once never see each
 * other's files; `mino fork` carries the branch and the uncommitted work; `mino branch prune`
 * removes only merged, clean, ended copies; a branch session is never warm (the dry run says
 * why, `mino pool warm --branch` is refused); bad input changes nothing. The image is the busybox
 * test image with the host's git copied in.
 */

const sandboxes: Sandbox[] = [];
afterAll(() => {
  for (const s of sandboxes) s.cleanup();
});

const gitImages = new Map<RunAs, string>();

/** The busybox test image with the host's `git`, user 1000 like mino's images (built once per user). */
function gitImage(as: RunAs): string {
  let image = gitImages.get(as);
  if (image !== undefined) return image;
  const dir = buildContext('mino-test-branch-');
  const files = ['/usr/bin/git'];
  const ldd = spawnSync('ldd', ['/usr/bin/git'], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) files.push(m[1]!);
  for (const f of files) {
    mkdirSync(join(dir, 'root', f, '..'), { recursive: true });
    copyFileSync(f, join(dir, 'root', f));
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  image = buildTestImage(as, dir, `localhost/mino-composed-b7a0${hex(8)}:latest`, [
    `FROM ${TEST_IMAGE}`,
    'COPY root/ /',
    'RUN chown -R 1000:1000 /home/developer',
    'USER 1000',
  ]);
  gitImages.set(as, image);
  return image;
}

/** Host git as the test (root: any owner is fine). */
function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'safe.directory=*', '-c', 'user.email=h@x', '-c', 'user.name=h', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A committed repository with a dirty tracked file and an untracked one, owned by the user mino runs as. */
function makeRepo(s: Sandbox, as: RunAs, name: string): string {
  const project = s.project(name);
  git(project, 'init', '-q', '-b', 'main');
  writeFileSync(join(project, 'a.txt'), 'a\n');
  git(project, 'add', '.');
  git(project, 'commit', '-qm', 'initial');
  writeFileSync(join(project, 'a.txt'), 'host-dirty\n');
  writeFileSync(join(project, 'host-untracked.txt'), 'mine\n');
  if (as === 'rootless' && IS_ROOT)
    spawnSync('chown', ['-R', `${uidOf(ROOTLESS_USER)!}:${uidOf(ROOTLESS_USER)!}`, project]);
  return project;
}

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
      // The warm pool never serves a branch session: its dry run says why, and warming one is refused.
      const dry = await s.mino(['run', '-b', 'feat', ...withHome, '--dry-run', '--', 'true']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/# Pool: this run cannot be served warm: a branch session mounts .* it starts cold/);
      const warm = await s.mino(['pool', 'warm', '-n', '1', '-b', 'feat', ...withHome, '--', 'true']);
      expect(warm.stderr).toMatch(/This run cannot be kept warm: a branch session/);
      expect(warm.exitCode).toBe(2);
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
