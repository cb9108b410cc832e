import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunAs } from '../../helpers/run-mino.js';
import { type Sandbox, buildContext, buildTestImage, hex } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE, uidOf } from '../../helpers/test-env.js';

/** Shared steps of the branch-session integration tests. */

const gitImages = new Map<RunAs, string>();

/** The busybox test image with the host's `git`, user 1000 like mino's images (built once per user). */
export function gitImage(as: RunAs): string {
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

/**
 * Host git in `dir`, as the user who owns it: objects git writes (a commit, a stash) then belong
 * to that user, so mino running as them can add objects to the same `.git/objects/XX` folders
 * later (root's would be 0755 folders of root's, and a fetch into one of them fails).
 */
export function git(dir: string, ...args: string[]): string {
  const owner = statSync(dir);
  const asOwner = IS_ROOT && owner.uid !== 0;
  const r = spawnSync('git', ['-c', 'safe.directory=*', '-c', 'user.email=h@x', '-c', 'user.name=h', ...args], {
    cwd: dir,
    encoding: 'utf8',
    ...(asOwner
      ? {
          uid: owner.uid,
          gid: owner.gid,
          env: { ...process.env, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
        }
      : {}),
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A committed repository with a dirty tracked file and an untracked one, owned by the user mino runs as. */
export function makeRepo(s: Sandbox, as: RunAs, name: string): string {
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
