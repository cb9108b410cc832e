import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OrbStackRuntime } from '../../../src/runtime/orbstack/orbstack-runtime.js';
import { fakeOrbEnv, fakeOrbState, requirePrerequisites } from '../../helpers/engines.js';
import { FAKE_ORB } from '../../helpers/test-env.js';

requirePrerequisites();

function orbRuntime(state: string, extraEnv: NodeJS.ProcessEnv = {}, vmName = 'mino'): OrbStackRuntime {
  return new OrbStackRuntime({
    vmName,
    vmDistro: 'fedora',
    orbBinary: FAKE_ORB,
    env: { ...fakeOrbEnv(state), ...extraEnv },
  });
}

function calls(state: string): string[] {
  return readFileSync(join(state, 'calls.log'), 'utf8').trim().split('\n');
}

describe('OrbStack runtime: ensureReady against a fake orb and real podman', () => {
  it('starts OrbStack, creates and starts the machine, installs podman, adds uid ranges, migrates', async () => {
    const state = fakeOrbState({ empty: true, orbStopped: true, podmanMissing: true });
    const rt = orbRuntime(state, { FAKE_ORB_USER: 'alice' });
    expect(await rt.isAvailable()).toBe(false);
    await rt.ensureReady();
    expect(await rt.isAvailable()).toBe(true);
    const log = calls(state);
    expect(log).toContain('start ');
    expect(log).toContain('create fedora mino ');
    expect(log.some((l) => l.startsWith('-m mino -u root dnf install -y podman'))).toBe(true);
    expect(readFileSync(join(state, 'root/etc/subuid'), 'utf8')).toBe('alice:100000:65536\n');
    expect(readFileSync(join(state, 'root/etc/subgid'), 'utf8')).toBe('alice:100000:65536\n');
    expect(log).toContain('-m mino podman system migrate ');
    expect(existsSync(join(state, 'machines/.mino.distro'))).toBe(true);
  });

  it('changes nothing on a ready machine', async () => {
    const state = fakeOrbState();
    const rt = orbRuntime(state, { FAKE_ORB_USER: 'bob' });
    await rt.ensureReady(); // adds ranges the first time
    const before = calls(state).length;
    await rt.ensureReady();
    const after = calls(state).slice(before);
    expect(after.some((l) => /create|install|tee|migrate/.test(l))).toBe(false);
    expect(readFileSync(join(state, 'root/etc/subuid'), 'utf8')).toBe('bob:100000:65536\n');
  });

  it('starts a stopped machine', async () => {
    const state = fakeOrbState();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(state, 'machines', 'mino'), 'stopped\n');
    const rt = orbRuntime(state, { FAKE_ORB_USER: 'carol' });
    await rt.ensureReady();
    expect(calls(state)).toContain('start mino ');
  });

  it('does not take `orb status` exit 0 for running', async () => {
    const state = fakeOrbState({ orbStopped: true });
    const rt = orbRuntime(state);
    expect(await rt.orbRunning()).toBe(false);
  });

  it('refuses a user name it cannot trust, before writing anything', async () => {
    const state = fakeOrbState();
    const rt = orbRuntime(state, { FAKE_ORB_USER: 'x;rm -rf /' });
    await expect(rt.ensureReady()).rejects.toThrow(/Unexpected user name/);
    expect(existsSync(join(state, 'root/etc/subuid'))).toBe(false);
  });

  it('rejects invalid machine names and distributions up front', () => {
    expect(() => orbRuntime(fakeOrbState(), {}, '-m')).toThrow(/Invalid OrbStack machine name/);
    expect(() => new OrbStackRuntime({ vmName: 'mino', vmDistro: 'fedora; reboot', orbBinary: FAKE_ORB })).toThrow(
      /Invalid OrbStack distribution/,
    );
  });

  it('explains a missing orb binary', async () => {
    const rt = new OrbStackRuntime({ vmName: 'mino', vmDistro: 'fedora', orbBinary: '/nonexistent/orb' });
    expect(await rt.isAvailable()).toBe(false);
    await expect(rt.ensureReady()).rejects.toMatchObject({
      message: 'OrbStack is not installed',
      hint: expect.stringContaining('orbstack.dev'),
    });
  });
});
