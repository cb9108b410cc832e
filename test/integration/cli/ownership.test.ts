import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOTFUL_ID_BASE } from '../../../src/config/defaults.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, buildMinoLikeImage, hex, podmanAs } from '../../helpers/sandbox.js';
import { IN_CI, IS_ROOT } from '../../helpers/test-env.js';

requirePrerequisites();
if (!IS_ROOT && IN_CI) throw new Error('rootful ownership tests need root under CI');

/**
 * Rootful sessions run in a user namespace: the image's user is the project's owner on the host
 * (it can write the project; what it creates belongs to that owner), container root is an
 * unprivileged host uid unless it is the image's user (root images: root-image.test.ts).
 */
describe.runIf(IS_ROOT)('rootful ownership', () => {
  const sandbox = new Sandbox('self');
  let devImage = '';
  beforeAll(() => {
    devImage = buildMinoLikeImage('self');
  });
  afterAll(() => sandbox.cleanup());

  const run = (project: string, args: string[], image = devImage) =>
    sandbox.mino(['run', '-p', project, '--network', 'none', '--no-home', '--image', image, ...args]);

  /** The host uids of the processes of a running container. */
  function hostUids(container: string): number[] {
    const r = spawnSync('podman', ['top', container, 'huser'], { encoding: 'utf8', cwd: '/' });
    return r.stdout
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => Number(l.trim()));
  }

  it('the image user (uid 1000) writes a root-owned project; the files belong to root', async () => {
    const project = sandbox.project('rootowned');
    const r = await run(project, ['--', 'sh', '-c', 'id -u && touch made && mkdir dir']);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ exitCode: 0, stdout: '1000\n' });
    expect(statSync(join(project, 'made')).uid).toBe(0);
    expect(statSync(join(project, 'dir')).gid).toBe(0);
  });

  it('a project owned by another user is written as that user', async () => {
    const project = sandbox.project('other');
    chownSync(project, 1500, 1500);
    chmodSync(project, 0o700);
    const r = await run(project, ['--', 'touch', 'made']);
    expect(r.exitCode).toBe(0);
    expect(statSync(join(project, 'made'))).toMatchObject({ uid: 1500, gid: 1500 });
  });

  it('a 0700 --volume of the project owner is readable', async () => {
    const project = sandbox.project('withvol');
    const secret = join(sandbox.root, 'private');
    mkdirSync(secret, { mode: 0o700 });
    writeFileSync(join(secret, 'note'), 'only-mine', { mode: 0o600 });
    const r = await run(project, ['--volume', `${secret}:/mnt:ro`, '--', 'cat', '/mnt/note']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'only-mine' });
  });

  it('with a non-root image user, container root is an unprivileged host uid, never host root', async () => {
    // A root image in a root-owned project is host root itself: root-image.test.ts.
    const project = sandbox.project('rootimage');
    // Root inside (e.g. through a setuid helper) would still be unprivileged.
    const dev = await sandbox.mino([
      'run',
      '-d',
      '-n',
      'devimg',
      '-p',
      project,
      '--network',
      'none',
      '--no-home',
      '--image',
      devImage,
      '--',
      'sleep',
      '300',
    ]);
    expect(dev.exitCode).toBe(0);
    expect(hostUids('mino-devimg')).not.toContain(ROOTFUL_ID_BASE);
    const inspect = spawnSync('podman', ['inspect', '--format', '{{json .HostConfig.IDMappings}}', 'mino-devimg'], {
      encoding: 'utf8',
      cwd: '/',
    });
    expect(inspect.stdout).toContain(`0:${ROOTFUL_ID_BASE}:1000`);
    await sandbox.mino(['stop', '-f', 'devimg']);
  });
});

/**
 * Any image's user (issue: rootless `--image` with USER 1000:1000 could not write the project of a
 * user whose uid is not 1000): mino inspects an image it did not build once per run and maps its
 * user onto the host user (rootless) or the project owner (rootful). A missing image is one error
 * before anything is created.
 */
describe.each(MODES)('any image, %s', (as) => {
  const sandbox = new Sandbox(as);
  let userImage = '';
  beforeAll(() => {
    userImage = buildMinoLikeImage(as, { tag: `localhost/mino-test-user-${hex(8)}:1`, user: '1000:1000' });
  });
  afterAll(() => sandbox.cleanup());

  it('an image whose USER is 1000:1000 writes the project as its owner', async () => {
    const project = sandbox.project('userimage');
    const r = await sandbox.mino([
      'run',
      '-p',
      project,
      '--network',
      'none',
      '--no-home',
      '--image',
      userImage,
      '--',
      'sh',
      '-c',
      'id -u; touch made',
    ]);
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ exitCode: 0, stdout: '1000\n' });
    expect(statSync(join(project, 'made')).uid).toBe(statSync(project).uid);
  });

  it('a missing --image is one error: no session record, no container', async () => {
    const project = sandbox.project('noimage');
    const r = await sandbox.mino([
      'run',
      '-n',
      'noimage',
      '-p',
      project,
      '--network',
      'none',
      '--image',
      'localhost/mino-test-missing:1',
      '--',
      'true',
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(
      'Error: Image localhost/mino-test-missing:1 is not available locally\nHint: Build or pull it first (podman pull localhost/mino-test-missing:1), or pass another --image\n',
    );
    const sessions = JSON.parse((await sandbox.mino(['list', '-a', '-f', 'json'])).stdout) as { name: string }[];
    expect(sessions.length).toBeGreaterThan(0); // the run above
    expect(sessions.map((s) => s.name)).not.toContain('noimage');
    expect(podmanAs(as, ['container', 'exists', 'mino-noimage']).status).toBe(1);
  });
});
