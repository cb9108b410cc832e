import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHost } from '../../../src/host/host.js';
import { PodmanRuntime } from '../../../src/runtime/podman/podman-runtime.js';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IN_CI, IS_ROOT, TEST_LABELS, uidOf } from '../../helpers/test-env.js';
import { exclusive } from '../../helpers/exclusive.js';

exclusive('throwaway-users');

requirePrerequisites();

/**
 * `podman system reset` removes everything of a user's podman: its store, and state shared by
 * every store of that user (the rootless pause process, podman's tmp dir, custom networks; as
 * root even the machine's networks). It never runs against the engines other test runs share:
 * here it runs for a throwaway rootless user made for this test and removed afterwards.
 */

const user = `mino-rt-${randomBytes(3).toString('hex')}`;
let uid = 0;

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
}

const canRun = IS_ROOT && existsSync('/usr/bin/newuidmap');
if (!canRun && IN_CI) throw new Error('system reset test needs root and newuidmap under CI');

describe.runIf(canRun)('ContainerRuntime.systemReset [throwaway rootless user]', () => {
  let runtime: PodmanRuntime;

  beforeAll(() => {
    sh(['useradd', '--create-home', '--shell', '/bin/sh', user]);
    uid = uidOf(user)!;
    const runtimeDir = `/run/user/${uid}`;
    mkdirSync(runtimeDir, { recursive: true });
    chownSync(runtimeDir, uid, uid);
    chmodSync(runtimeDir, 0o700);
    const prefix = [
      'runuser',
      '-u',
      user,
      '--',
      'env',
      '-i',
      `HOME=/home/${user}`,
      `USER=${user}`,
      `LOGNAME=${user}`,
      `XDG_RUNTIME_DIR=${runtimeDir}`,
      `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
      'LANG=C.UTF-8',
    ];
    runtime = new PodmanRuntime({ host: new CommandHost({ prefix, name: user }) });
  });

  afterAll(() => {
    if (!uid) return;
    // The processes podman left for this user (its pause process), by id, then the user.
    const pids = spawnSync('pgrep', ['-u', String(uid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    for (const pid of pids) spawnSync('kill', ['-KILL', pid]);
    spawnSync('userdel', ['-r', user], { stdio: 'ignore' });
    rmSync(`/run/user/${uid}`, { recursive: true, force: true });
  });

  it('removes every image, volume and secret of the store, and the store itself', async () => {
    const info = await runtime.info();
    expect(info.rootless).toBe(true);
    await runtime.importImage('/', 'localhost/mino-rt-reset:1', { paths: ['etc/hostname'], dereference: true });
    await runtime.volumeCreate('mino-rt-reset-vol', { ...TEST_LABELS });
    await runtime.secretCreate('mino-rt-reset-secret', 'value', { ...TEST_LABELS });
    const before = await runtime.storeInventory();
    expect(before.images.flatMap((i) => i.names)).toEqual(['localhost/mino-rt-reset:1']);
    expect(before.volumes.map((v) => v.name)).toEqual(['mino-rt-reset-vol']);
    expect(before.secrets).toEqual(['mino-rt-reset-secret']);

    await runtime.systemReset();
    expect(existsSync(info.graphRoot)).toBe(false);
    const after = await runtime.storeInventory();
    expect(after).toMatchObject({ images: [], volumes: [], secrets: [], containers: [] });
  });
});
