import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import type { RunAs } from '../../helpers/run-mino.js';
import { MODES, Sandbox, buildContext, buildTestImage, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { IS_ROOT, REPO_ROOT, ROOTLESS_USER, TEST_IMAGE, uidOf } from '../../helpers/test-env.js';
import { minoPid } from '../credentials/cred-helpers.js';
import { buildNamedUserImage, writePoolConfig } from '../pool/pool-helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

requirePrerequisites();

/**
 * Protected paths, end to end (issue 18): a session plants each protected path from inside
 * (existing and absent ones; directly, through symlinks, by renaming over them, by renaming their
 * folders away) and nothing reaches the host, while the agent's git commits, branches, stashes and
 * rebases do; host git works while the session runs; the stand-ins mino created are gone
 * afterwards, also after `kill -9` of mino (then `mino gc` removes them). The image is the busybox
 * test image with the host's git copied in (the rootless test user has no mino-base).
 */

const sandboxes: Sandbox[] = [];
afterAll(() => {
  for (const s of sandboxes) s.cleanup();
});

const gitImages = new Map<RunAs, string>();

/** The busybox test image with the host's `git` and the libraries it needs, user 1000 like mino's images (built once per user). */
function gitImage(as: RunAs): string {
  let image = gitImages.get(as);
  if (image === undefined) {
    image = buildGitImage(as);
    gitImages.set(as, image);
  }
  return image;
}

function buildGitImage(as: RunAs): string {
  const dir = buildContext('mino-test-protect-');
  const files = ['/usr/bin/git'];
  const ldd = spawnSync('ldd', ['/usr/bin/git'], { encoding: 'utf8' }).stdout;
  for (const m of ldd.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) files.push(m[1]!);
  for (const f of files) {
    mkdirSync(join(dir, 'root', f, '..'), { recursive: true });
    copyFileSync(f, join(dir, 'root', f));
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  return buildTestImage(as, dir, `localhost/mino-composed-9a17${hex(8)}:latest`, [
    `FROM ${TEST_IMAGE}`,
    'COPY root/ /',
    'RUN chown -R 1000:1000 /home/developer',
    'USER 1000',
  ]);
}

/** The flags of a session of `project` in the git image, with no network, home volume or cache. */
function gitRunFlags(project: string, as: RunAs): string[] {
  return ['-p', project, '--image', gitImage(as), '--network', 'none', '--no-home', '--no-cache'];
}

/** Runs host git in `dir` as the project's owner would (as root: any owner is fine). */
function git(dir: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(
    'git',
    ['-c', 'safe.directory=*', '-c', 'user.email=host@example.com', '-c', 'user.name=host', ...args],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A git project with some protected paths present (config, hooks, .envrc, .vscode, a nested repo, a worktree). */
function makeProject(s: Sandbox, as: RunAs, name = 'proj'): string {
  const project = s.project(name);
  git(project, 'init', '-q', '-b', 'main');
  git(project, 'commit', '-q', '--allow-empty', '-m', 'initial');
  git(project, 'config', 'core.hooksPath', '.husky');
  writeFileSync(join(project, '.envrc'), 'export HOST=1\n');
  writeFileSync(join(project, '.zshrc'), '# host rc\n');
  mkdirSync(join(project, '.vscode'));
  writeFileSync(join(project, '.vscode/settings.json'), '{"host":true}\n');
  mkdirSync(join(project, 'libs/inner'), { recursive: true });
  git(join(project, 'libs/inner'), 'init', '-q', '-b', 'main');
  git(project, 'worktree', 'add', '-q', 'wt', '-b', 'wt');
  // A submodule whose name holds a slash keeps its git directory in .git/modules/libs/sub.
  git(project, 'init', '-q', '-b', 'main', `--separate-git-dir=${join(project, '.git/modules/libs/sub')}`, 'libs/sub');
  // Settings shared through a file the repository's config includes.
  git(project, 'config', 'include.path', '../.gitconfig');
  writeFileSync(join(project, '.gitconfig'), '[alias]\n\tst = status\n');
  if (as === 'rootless' && IS_ROOT) {
    const uid = uidOf(ROOTLESS_USER)!;
    spawnSync('chown', ['-R', `${uid}:${uid}`, project]);
  }
  return project;
}

const STUBS = [
  '.mcp.json',
  '.claude',
  '.idea',
  '.devcontainer',
  '.gitmodules',
  '.husky',
  '.git/commondir',
  '.git/config.worktree',
  '.git/worktrees/wt/config.worktree',
  '.git/worktrees/wt/locked',
  'libs/inner/.vscode',
  'libs/inner/.git/commondir',
  '.git/modules/libs/sub/commondir',
  'wt/.husky',
];

for (const as of MODES) {
  describe(`protected paths [${modeLabel(as)}]`, () => {
    it('nothing the agent plants in a protected path reaches the host; its git work does; the stand-ins go away', async () => {
      const s = new Sandbox(as);
      sandboxes.push(s);
      const image = gitImage(as);
      // The project inside a folder given as a volume too, beside another repository.
      const code = s.project('code');
      const project = makeProject(s, as, 'code/proj');
      const probe = join(s.root, 'probe');
      mkdirSync(probe);
      copyFileSync(join(REPO_ROOT, 'test/fixtures/protect/attack.sh'), join(probe, 'attack.sh'));
      chmodSync(probe, 0o755);
      if (as === 'rootless' && IS_ROOT)
        chownSync(join(probe, 'attack.sh'), uidOf(ROOTLESS_USER)!, uidOf(ROOTLESS_USER)!);
      const before = {
        config: readFileSync(join(project, '.git/config'), 'utf8'),
        inner: readFileSync(join(project, 'libs/inner/.git/config'), 'utf8'),
        wt: readFileSync(join(project, 'wt/.git'), 'utf8'),
      };
      // A volume holding the project and another repository, and the project given again as a volume.
      mkdirSync(join(code, 'other'));
      git(join(code, 'other'), 'init', '-q', '-b', 'main');
      if (as === 'rootless' && IS_ROOT)
        spawnSync('chown', ['-R', `${uidOf(ROOTLESS_USER)!}:${uidOf(ROOTLESS_USER)!}`, code]);
      const flags = [
        '-p',
        project,
        '--image',
        image,
        '--network',
        'none',
        '--no-home',
        '--no-cache',
        '--volume',
        `${probe}:/probe:ro`,
        '--volume',
        `${code}:/all`,
        '--volume',
        `${project}:/again`,
      ];

      const dry = await s.mino(['run', '--dry-run', ...flags, '--', 'true']);
      expect(dry.exitCode).toBe(0);
      expect(dry.stdout).toContain(`# protected: ${project}/.git/hooks\n`);
      expect(dry.stdout).toContain(`# protected: ${project}/.mcp.json (absent: created for the session)\n`);
      expect(dry.stdout).toContain(`# protected: ${project}/.husky (absent: created for the session)\n`);
      expect(existsSync(join(project, '.mcp.json'))).toBe(false);

      const session = s.spawn(['run', '-n', `protect-${hex(6)}`, ...flags, '--', 'sh', '/probe/attack.sh']);
      await waitFor(() => existsSync(join(project, '.ready')), 90_000).catch(async () => {
        session.child.kill('SIGKILL');
        const r = await session.done;
        throw new Error(`the session did not get ready: ${r.stderr}${r.stdout}`);
      });
      // While the session runs, host git works (the stand-ins inside .git are harmless to it).
      expect(readFileSync(join(project, '.mcp.json'), 'utf8')).toBe('{}\n');
      expect(git(project, 'status', '--porcelain')).toMatchObject({ status: 0, stderr: '' });
      expect(git(project, 'commit', '-q', '--allow-empty', '-m', 'host-during-session')).toMatchObject({
        status: 0,
        stderr: '',
      });
      expect(git(join(project, 'wt'), 'status', '--porcelain')).toMatchObject({ status: 0, stderr: '' });
      expect(git(join(project, 'libs/inner'), 'status')).toMatchObject({ status: 0, stderr: '' });
      writeFileSync(join(project, '.host-done'), '');
      const r = await session.done;

      expect(r.stdout.split('\n').filter((l) => l.startsWith('HOLE') || l.startsWith('FAIL'))).toEqual([]);
      expect(r.stdout).toContain('GITOK');
      expect(r.exitCode).toBe(0);
      // Nothing reached the host.
      expect(readFileSync(join(project, '.git/config'), 'utf8')).toBe(before.config);
      expect(readFileSync(join(project, 'libs/inner/.git/config'), 'utf8')).toBe(before.inner);
      expect(readFileSync(join(project, 'wt/.git'), 'utf8')).toBe(before.wt);
      expect(readFileSync(join(project, '.envrc'), 'utf8')).toBe('export HOST=1\n');
      expect(readFileSync(join(project, '.zshrc'), 'utf8')).toBe('# host rc\n');
      expect(readdirSync(join(project, '.vscode'))).toEqual(['settings.json']);
      expect(readFileSync(join(project, '.vscode/settings.json'), 'utf8')).toBe('{"host":true}\n');
      expect(readdirSync(join(project, '.git/hooks')).filter((f) => !f.endsWith('.sample'))).toEqual([]);
      expect(readdirSync(join(project, 'libs/inner/.git/hooks')).filter((f) => !f.endsWith('.sample'))).toEqual([]);
      for (const moved of [
        '.git.moved',
        '.git/hooks.moved',
        '.claude.moved',
        'libs.moved',
        'libs/inner/.git.moved',
        'wt.moved',
      ])
        expect(existsSync(join(project, moved)), moved).toBe(false);
      // The agent's git work landed in the host repository; the stand-ins are gone.
      expect(git(project, 'log', '--format=%s', 'main').stdout.split('\n')).toEqual(
        expect.arrayContaining(['agent-file', 'from-agent', 'host-during-session', 'initial']),
      );
      expect(git(project, 'branch', '--list', 'agent-branch').stdout).toContain('agent-branch');
      for (const stub of STUBS) expect(existsSync(join(project, stub)), stub).toBe(false);
    }, 240_000);

    it('after kill -9 of mino, mino gc removes the stand-ins once the container is gone; mino stop of a detached session does', async () => {
      const s = new Sandbox(as);
      sandboxes.push(s);
      const project = makeProject(s, as);
      const name = `protectk-${hex(6)}`;
      const session = s.spawn([
        'run',
        '-n',
        name,
        ...gitRunFlags(project, as),
        '--',
        'sh',
        '-c',
        'touch .ready; sleep 120',
      ]);
      await waitFor(() => existsSync(join(project, '.ready')), 60_000);
      expect(existsSync(join(project, '.mcp.json'))).toBe(true);
      process.kill(minoPid(session.child, as), 'SIGKILL');
      await session.done;
      // The container lives on: gc must not pull its mounts away.
      expect((await s.mino(['gc'])).exitCode).toBe(0);
      if (podmanAs(as, ['container', 'exists', `mino-${name}`]).status === 0)
        expect(existsSync(join(project, '.mcp.json'))).toBe(true);
      podmanAs(as, ['rm', '-f', '-t', '0', `mino-${name}`]);
      expect((await s.mino(['gc'])).exitCode).toBe(0);
      for (const stub of STUBS) expect(existsSync(join(project, stub)), stub).toBe(false);

      // A detached session keeps them after mino exits; mino stop removes them.
      const detached = `protectd-${hex(6)}`;
      const started = await s.mino([
        'run',
        '-d',
        '-n',
        detached,
        ...gitRunFlags(project, as),
        '--',
        'sh',
        '-c',
        // It makes a repository of its own (by hand: a pager in its config, a hook) and goes on.
        'mkdir -p det/.git/objects det/.git/refs det/.git/hooks && echo "ref: refs/heads/main" > det/.git/HEAD && printf "[core]\\n\\tbare = false\\n\\tpager = touch pager-ran\\n" > det/.git/config && printf "#!/bin/sh\\n" > det/.git/hooks/pre-commit && exec sleep 120',
      ]);
      expect(started.exitCode, started.stderr).toBe(0);
      expect(readFileSync(join(project, '.mcp.json'), 'utf8')).toBe('{}\n');
      await waitFor(() => existsSync(join(project, 'det/.git/hooks/pre-commit')), 30_000);
      const stopped = await s.mino(['stop', '-f', detached]);
      expect(stopped.exitCode).toBe(0);
      for (const stub of STUBS) expect(existsSync(join(project, stub)), stub).toBe(false);
      // mino stop made its repository harmless: the hook moved aside, the pager gone from its config.
      expect(stopped.stderr).toContain(`Warning: the session made a git repository at ${project}/det/.git`);
      expect(existsSync(join(project, 'det/.git/hooks.mino-disabled/pre-commit'))).toBe(true);
      expect(readFileSync(join(project, 'det/.git/config'), 'utf8')).toBe('[core]\n\tbare = false\n');
      expect(readFileSync(join(project, 'det/.git/config.mino-disabled'), 'utf8')).toContain('pager = touch pager-ran');
    }, 180_000);

    it('a repository the agent makes and adds to the index cannot run anything when git works on this machine', async () => {
      const s = new Sandbox(as);
      sandboxes.push(s);
      const project = makeProject(s, as);
      // Host git recurses into a nested repository in the index (git status, git diff): its
      // core.fsmonitor would run as the user, in the nested tree (made/fsmonitor-ran).
      const attack = [
        'set -e',
        'mkdir made && cd made && git init -q -b main',
        "git config core.fsmonitor 'touch fsmonitor-ran; false'",
        'mkdir -p .git/hooks && printf "#!/bin/sh\\ntouch hook-ran\\n" > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout',
        'echo x > f && git add f && git -c user.email=a@b -c user.name=a commit -q -m inner',
        'cd .. && git add made 2>/dev/null && echo ADDED',
      ].join('\n');
      const r = await s.mino(['run', ...gitRunFlags(project, as), '--', 'sh', '-c', attack]);
      expect(r.stdout).toContain('ADDED');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain(`Warning: the session made a git repository at ${project}/made/.git`);
      expect(r.stderr).toContain('core.fsmonitor');
      // The host's git status and diff recurse into it and run nothing (its fsmonitor did run
      // inside, at the agent's own commit: that mark goes first).
      rmSync(join(project, 'made/fsmonitor-ran'), { force: true });
      expect(git(project, 'status', '--porcelain').stdout).toContain('made');
      expect(git(project, 'diff', 'HEAD', '--stat').status).toBe(0);
      expect(git(join(project, 'made'), 'status').status).toBe(0);
      expect(existsSync(join(project, 'made/fsmonitor-ran'))).toBe(false);
      expect(readFileSync(join(project, 'made/.git/config.mino-disabled'), 'utf8')).toContain('fsmonitor');
      expect(readFileSync(join(project, 'made/.git/config'), 'utf8')).not.toContain('fsmonitor');
      expect(existsSync(join(project, 'made/.git/hooks.mino-disabled/post-checkout'))).toBe(true);
      // The repositories that were there keep their own settings (the host's include.path).
      expect(readFileSync(join(project, '.git/config'), 'utf8')).toContain('path = ../.gitconfig');
    }, 120_000);

    it('warm containers carry the protections: the stand-ins stay while one waits, a pooled run cannot write them', async () => {
      const s = new Sandbox(as);
      sandboxes.push(s);
      writePoolConfig(s, { warm_ttl: 300 });
      const project = makeProject(s, as);
      const flags = ['-p', project, '--network', 'none', '--no-cache', '--image', buildNamedUserImage(as)];
      const warm = await s.mino(['pool', 'warm', '-n', '1', ...flags]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      // mino pool warm has exited; its container still has the stand-ins mounted.
      expect(readFileSync(join(project, '.mcp.json'), 'utf8')).toBe('{}\n');
      expect((await s.mino(['run', '--dry-run', ...flags, '--', 'true'])).stdout).toMatch(
        /^# Pool: a warm container would serve this run/m,
      );
      const pooled = await s.mino([
        'run',
        '-n',
        `protectp-${hex(6)}`,
        ...flags,
        '--',
        'sh',
        '-c',
        'for p in .git/hooks/pre-commit .mcp.json .claude/settings.json .envrc; do (echo evil >> "$p") 2>/dev/null && echo "HOLE $p"; done; mv .git .git.moved 2>/dev/null && echo "HOLE rename .git"; echo done',
      ]);
      expect(pooled.stdout).toBe('done\n');
      expect(pooled.exitCode).toBe(0);
      expect(readFileSync(join(project, '.envrc'), 'utf8')).toBe('export HOST=1\n');
      expect((await s.mino(['pool', 'drain'])).exitCode).toBe(0);
      expect((await s.mino(['gc'])).exitCode).toBe(0);
      for (const stub of STUBS) expect(existsSync(join(project, stub)), stub).toBe(false);
    }, 180_000);
  });
}
