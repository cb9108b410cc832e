import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { ThrowawayUser } from '../../helpers/throwaway-user.js';
import { IN_CI, IS_ROOT, TEST_IMAGE, TEST_RUN } from '../../helpers/test-env.js';
import { exclusive } from '../../helpers/exclusive.js';

exclusive('throwaway-users');

requirePrerequisites();
if (!IS_ROOT && IN_CI) throw new Error('engine-state.test.ts must run as root under CI (it creates a throwaway user)');

/**
 * A rootless engine whose processes died while its state stayed (a machine restarted or restored
 * from a snapshot without clearing /run/user): podman refuses everything until `podman system
 * migrate`. `mino status` names the problem, `mino setup --yes` repairs it, and the user's
 * images stay.
 */
describe.runIf(IS_ROOT)('stale rootless engine state [throwaway user]', () => {
  const user = new ThrowawayUser(`mino-es-${TEST_RUN}`.slice(0, 32));
  beforeAll(() => user.create());
  afterAll(() => user.remove());

  it('status reports it, setup --yes runs podman system migrate, the images stay', async () => {
    // An image and a running container, then every process of the user dies at once.
    const archive = `/tmp/mino-es-${TEST_RUN}.tar`;
    expect(
      spawnSync('podman', ['save', '--format', 'oci-archive', '-o', archive, TEST_IMAGE], { cwd: '/' }).status,
    ).toBe(0);
    chmodSync(archive, 0o644);
    try {
      user.podman(['load', '-q', '-i', archive]);
    } finally {
      rmSync(archive, { force: true });
    }
    user.podman(['run', '-d', '--network', 'none', TEST_IMAGE, 'sleep', '600']);
    user.killAll();
    expect(user.podman(['images'], true)).toBe('');

    const status = await user.mino(['status', '-f', 'json']);
    expect(status.exitCode).toBe(1);
    const engineState = (
      JSON.parse(status.stdout) as { checks: { id: string; status: string; hint?: string }[] }
    ).checks.find((c) => c.id === 'engine.state');
    expect(engineState).toMatchObject({ status: 'fail' });
    expect(engineState?.hint).toMatch(/podman system migrate/);

    const setup = await user.mino(['setup', '--yes', '--skip-image'], { timeoutMs: 300_000 });
    expect(setup.stdout).toMatch(
      /\[FIXED\] +Rootless engine state: podman system migrate reset the state a restart left behind/,
    );
    expect((await user.mino(['status', '-f', 'json'])).stdout).not.toContain('engine.state');
    expect(user.podman(['images', '--format', '{{.Repository}}'])).toContain('mino-test-busybox');
  });
});
