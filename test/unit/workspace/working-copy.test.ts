import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bringHome, divergedRef } from '../../../src/workspace/bring-home.js';
import { validateBranchName, wipRef } from '../../../src/workspace/branch-name.js';
import { copyDiff } from '../../../src/workspace/copy-diff.js';
import { ALTERNATES_LINE, copyPaths } from '../../../src/workspace/copy-layout.js';
import { aheadCount } from '../../../src/workspace/copy-state.js';
import { forkCopy } from '../../../src/workspace/fork-copy.js';
import { readHostRepo, refuseCheckedOut } from '../../../src/workspace/host-repo.js';
import { ensureCopy } from '../../../src/workspace/make-copy.js';
import { minoErrorOf } from '../../helpers/thrown.js';

/** Working copies on real git (no container): made, continued, diffed, forked, brought home. */

const root = realpathSync(mkdtempSync(join(tmpdir(), 'mino-workspace-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@x', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

let n = 0;
function hostRepo(): string {
  const dir = join(root, `host${++n}`, 'proj');
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'a.txt'), 'a\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'init');
  return dir;
}

async function newCopy(top: string, name: string) {
  const repo = await readHostRepo(top);
  const paths = copyPaths(join(root, `data${n}`), repo.commonDir, repo.top, name);
  const made = await ensureCopy(repo, paths, name, 's1', { tip: repo.head, base: repo.head });
  return { repo, paths, made };
}

async function usageMessage(p: Promise<unknown>): Promise<string> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { exitCode?: number; message: string } | undefined;
  expect(err?.exitCode).toBe(2);
  return err?.message ?? '';
}

describe('branch names', () => {
  it('accepts what git and a folder name accept, refuses the rest with exit 2', () => {
    for (const ok of ['fix', 'try.2', 'a_b-c']) expect(validateBranchName(ok)).toBe(ok);
    for (const bad of ['', 'a..b', 'x.lock', '-x', '.x', 'a/b', 'a b', 'x.', 'é', 'a'.repeat(65)])
      expect(minoErrorOf(() => validateBranchName(bad)).exitCode).toBe(2);
  });
});

describe('the host repository', () => {
  it('refuses a folder that is no repository, a subfolder, a detached HEAD, no commit, a branch checked out there', async () => {
    const plain = join(root, 'plain');
    mkdirSync(plain);
    expect(await usageMessage(readHostRepo(plain))).toContain('not one');
    const top = hostRepo();
    mkdirSync(join(top, 'sub'));
    expect(await usageMessage(readHostRepo(join(top, 'sub')))).toContain('top folder');
    const empty = join(root, 'empty');
    mkdirSync(empty);
    git(empty, 'init', '-q');
    expect(await usageMessage(readHostRepo(empty))).toContain('no commit');
    git(top, 'checkout', '-q', '--detach');
    expect(await usageMessage(readHostRepo(top))).toContain('detached HEAD');
    git(top, 'checkout', '-q', '-b', 'mino/busy');
    expect(await usageMessage(refuseCheckedOut({ top }, 'busy'))).toContain('checked out');
  });
});

describe('working copies', () => {
  it("are a repository of their own on mino/NAME, borrowing the host's objects through a relative alternates line", async () => {
    const top = hostRepo();
    const { paths, made } = await newCopy(top, 'one');
    expect(made.created).toBe(true);
    expect(readFileSync(join(paths.copy, 'a.txt'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(paths.copy, '.git/objects/info/alternates'), 'utf8')).toBe(`${ALTERNATES_LINE}\n`);
    expect(git(paths.copy, 'symbolic-ref', 'HEAD')).toBe('refs/heads/mino/one');
    // No remote, no other branch, no tag, no hooks of the host.
    expect(git(paths.copy, 'remote')).toBe('');
    expect(git(paths.copy, 'for-each-ref', '--format=%(refname)')).toBe('refs/heads/mino/one');
    expect(existsSync(join(paths.copy, '.git/hooks'))).toBe(false);
    const again = await ensureCopy(await readHostRepo(top), paths, 'one', 's2', { tip: 'x', base: 'x' });
    expect(again.created).toBe(false);
    expect(again.meta.session).toBe('s2');
  });

  it('come home as exactly mino/NAME (no tag, no other branch), uncommitted work on refs/mino/wip/NAME; diff shows both', async () => {
    const top = hostRepo();
    const { repo, paths, made } = await newCopy(top, 'work');
    const hostConfig = readFileSync(join(top, '.git/config'), 'utf8');
    writeFileSync(join(paths.copy, 'b.txt'), 'b\n');
    git(paths.copy, 'add', 'b.txt');
    git(paths.copy, 'commit', '-qm', 'agent');
    git(paths.copy, 'tag', 'evil-tag');
    git(paths.copy, 'branch', 'other');
    writeFileSync(join(paths.copy, 'new.txt'), 'new\n');
    writeFileSync(join(paths.copy, 'a.txt'), 'changed\n');
    const diff = await copyDiff(paths.copy, made.meta.base, { stat: true });
    expect(diff).toMatch(/a\.txt[\s\S]*b\.txt[\s\S]*new\.txt/);
    // Hostile alternates inside are replaced before mino reads the copy.
    writeFileSync(join(paths.copy, '.git/objects/info/alternates'), '/etc\n');
    const home = await bringHome(made.meta, paths, repo.objectsDir);
    expect(home.tip).toBe(git(paths.copy, 'rev-parse', 'mino/work'));
    expect(git(top, 'rev-parse', 'mino/work')).toBe(home.tip);
    expect(git(top, 'show', `${wipRef('work')}:new.txt`)).toBe('new');
    expect(git(top, 'show', `${wipRef('work')}:a.txt`)).toBe('changed');
    expect(git(top, 'tag')).toBe('');
    expect(git(top, 'branch', '--list', 'other')).toBe('');
    expect(readFileSync(join(top, '.git/config'), 'utf8')).toBe(hostConfig);
    expect(await aheadCount(paths.copy, made.meta.base, 'refs/heads/mino/work')).toBe(1);
    // The agent's index and files are as they were.
    expect(git(paths.copy, 'status', '--porcelain')).toBe('M a.txt\n?? new.txt');
  });

  it('never overwrite a host branch that moved elsewhere: a rewritten branch comes home on refs/mino/diverged/NAME', async () => {
    const top = hostRepo();
    const { repo, paths, made } = await newCopy(top, 'rw');
    writeFileSync(join(paths.copy, 'b.txt'), 'b\n');
    git(paths.copy, 'add', 'b.txt');
    git(paths.copy, 'commit', '-qm', 'one');
    // A clean copy: no uncommitted work to keep.
    expect((await bringHome(made.meta, paths, repo.objectsDir)).wip).toBeUndefined();
    const first = git(top, 'rev-parse', 'mino/rw');
    git(paths.copy, 'commit', '-q', '--amend', '-m', 'rewritten');
    const home = await bringHome(made.meta, paths, repo.objectsDir);
    expect(home.diverged).toBe(true);
    expect(git(top, 'rev-parse', 'mino/rw')).toBe(first);
    expect(git(top, 'rev-parse', divergedRef('rw'))).toBe(home.tip);
  });

  it('fork with the branch tip and the uncommitted work, the source untouched', async () => {
    const top = hostRepo();
    const { repo, paths, made } = await newCopy(top, 'src');
    writeFileSync(join(paths.copy, 'b.txt'), 'b\n');
    git(paths.copy, 'add', 'b.txt');
    git(paths.copy, 'commit', '-qm', 'agent');
    writeFileSync(join(paths.copy, 'wip.txt'), 'wip\n');
    const status = git(paths.copy, 'status', '--porcelain');
    const target = copyPaths(join(root, `data${n}`), repo.commonDir, repo.top, 'dst');
    const meta = await forkCopy({ meta: made.meta, paths, objectsDir: repo.objectsDir }, target, 'dst', 's2');
    expect(meta.base).toBe(made.meta.base);
    expect(git(target.copy, 'rev-parse', 'HEAD')).toBe(git(paths.copy, 'rev-parse', 'HEAD'));
    expect(git(target.copy, 'symbolic-ref', 'HEAD')).toBe('refs/heads/mino/dst');
    expect(git(target.copy, 'status', '--porcelain')).toBe('?? wip.txt');
    expect(git(paths.copy, 'status', '--porcelain')).toBe(status);
  });

  // mino runs as root in CI (and for rootful users): the case only exists there.
  it.runIf(process.getuid?.() === 0)(
    "as root, into another user's repository: what the fetch wrote belongs to that user",
    async () => {
      const top = hostRepo();
      spawnSync('chown', ['-R', '1500:1500', join(top, '..')]);
      const { repo, paths, made } = await newCopy(top, 'own');
      writeFileSync(join(paths.copy, 'b.txt'), 'b\n');
      git(paths.copy, 'add', 'b.txt');
      git(paths.copy, 'commit', '-qm', 'agent');
      writeFileSync(join(paths.copy, 'wip.txt'), 'wip\n');
      await bringHome(made.meta, paths, repo.objectsDir);
      const find = spawnSync('find', [join(top, '.git'), '!', '-uid', '1500'], { encoding: 'utf8' });
      expect(find.stdout).toBe('');
      expect(git(top, '-c', 'safe.directory=*', 'rev-parse', 'mino/own')).toBe(git(paths.copy, 'rev-parse', 'HEAD'));
    },
  );

  it('refuse to run git in a copy whose .git holds a planted link; diff only reads the copy', async () => {
    const top = hostRepo();
    const { repo, paths, made } = await newCopy(top, 'plant');
    writeFileSync(join(paths.copy, 'new.txt'), 'new\n');
    const objects = (): string => spawnSync('find', [join(paths.copy, '.git/objects')], { encoding: 'utf8' }).stdout;
    const before = objects();
    expect(await copyDiff(paths.copy, made.meta.base)).toContain('+new');
    expect(objects()).toBe(before);
    const outside = join(root, `outside${n}`);
    mkdirSync(outside);
    symlinkSync(outside, join(paths.copy, '.git/objects/ab'));
    const err = await bringHome(made.meta, paths, repo.objectsDir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('symbolic link at .git/objects/ab');
    expect(readdirSync(outside)).toEqual([]);
  });
});
