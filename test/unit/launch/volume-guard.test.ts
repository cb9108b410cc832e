import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { assembleMounts, parseVolumeArg } from '../../../src/launch/volume-args.js';
import { volumeSourceRefusal } from '../../../src/launch/volume-guard.js';
import { volumeTargetRefusal } from '../../../src/volume/volume-spec.js';
import { thrown } from '../../helpers/thrown.js';

const HOME = '/home/me';
const NONE = { home: false, system: false };

describe('volumeSourceRefusal', () => {
  it.each(['/', '/home/me', '/home'])(
    'refuses %s (the root, the home directory or above it) unless --allow-home',
    (path) => {
      expect(volumeSourceRefusal(path, HOME, NONE)).toMatchObject({ flag: '--allow-home' });
      expect(volumeSourceRefusal(path, HOME, { home: true, system: false })).toBeUndefined();
    },
  );

  it.each([
    '/etc',
    '/etc/ssh',
    '/usr',
    '/usr/local/bin',
    '/run',
    '/run/podman/podman.sock',
    '/var/run',
    '/var/run/docker.sock',
    '/proc',
    '/sys/fs',
    '/dev',
    '/boot',
    '/bin',
    '/sbin',
    '/lib',
    '/lib64',
    '/var/lib/containers/storage',
    '/var/lib/docker',
    '/var',
    '/var/lib',
    '/root',
  ])('refuses the system path %s unless --allow-system-paths', (path) => {
    const refusal = volumeSourceRefusal(path, HOME, NONE);
    expect(refusal?.flag).toBe('--allow-system-paths');
    expect(refusal?.why).toMatch(/system directory/);
    expect(volumeSourceRefusal(path, HOME, { home: false, system: true })).toBeUndefined();
  });

  it.each([
    '/srv/data',
    '/home/me/src/data',
    '/tmp/x',
    '/var/lib/app-data',
    '/opt/tools',
    '/mnt/disk',
    '/home/other-user/shared',
    '/etcetera',
  ])('accepts %s', (path) => {
    expect(volumeSourceRefusal(path, HOME, NONE)).toBeUndefined();
  });

  it("refuses every user's home directory from the passwd database unless --allow-home", () => {
    const homes = [
      { user: 'alice', home: '/home/alice' },
      { user: 'me', home: '/home/me' },
    ];
    expect(volumeSourceRefusal('/home/alice', '/root', NONE, homes)).toEqual({
      why: 'it is the home directory of user alice',
      flag: '--allow-home',
    });
    expect(volumeSourceRefusal('/home/alice', '/root', { home: true, system: false }, homes)).toBeUndefined();
    expect(volumeSourceRefusal('/home/alice/shared', '/root', NONE, homes)).toBeUndefined();
    const err = thrown(() =>
      assembleMounts('/p/app', '/app', ['/home/alice:/a'], [], { homeDir: '/root', allow: NONE, otherHomes: homes }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('host path /home/alice: it is the home directory of user alice');
    expect(err.hint).toContain('--allow-home');
  });

  it("refuses mino's own directories, what is inside them and their ancestors unless --allow-home", () => {
    const own = ['/home/me/.config/mino', '/home/me/.local/state/mino'];
    for (const path of [
      '/home/me/.config',
      '/home/me/.config/mino',
      '/home/me/.local',
      '/home/me/.local/state/mino/protect',
    ]) {
      expect(volumeSourceRefusal(path, HOME, NONE, [], own), path).toMatchObject({
        why: expect.stringContaining("mino's own directory"),
        flag: '--allow-home',
      });
      expect(volumeSourceRefusal(path, HOME, { home: true, system: false }, [], own)).toBeUndefined();
    }
    expect(volumeSourceRefusal('/home/me/.config/git', HOME, NONE, [], own)).toBeUndefined();
    const err = thrown(() =>
      assembleMounts('/p/app', '/app', ['/home/me/.config:/cfg'], [], { homeDir: HOME, allow: NONE, minoDirs: own }),
    );
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain("contains mino's own directory /home/me/.config/mino");
  });

  it("treats root's home like any user's home", () => {
    expect(volumeSourceRefusal('/root', '/root', NONE)?.flag).toBe('--allow-home');
    expect(volumeSourceRefusal('/root/project-data', '/root', NONE)).toBeUndefined();
  });
});

describe('volumeTargetRefusal', () => {
  it.each([
    '/',
    '/etc',
    '/proc',
    '/proc/self',
    '/sys',
    '/dev',
    '/dev/shm',
    '/run',
    '/run/secrets',
    '/usr',
    '/bin',
    '/lib',
    '/var',
  ])('refuses the container path %s', (path) => {
    expect(volumeTargetRefusal(path)).toBeDefined();
  });

  it.each([
    '/data',
    '/etc/myapp',
    '/usr/local/share/certs',
    '/var/cache/x',
    '/tmp',
    '/home/developer/.config',
    '/workspace',
  ])('accepts %s', (path) => {
    expect(volumeTargetRefusal(path)).toBeUndefined();
  });
});

describe('volumes through the guard', () => {
  const guard = { homeDir: HOME, allow: NONE };

  it.each([
    ['/:/host', 'host path /: it is the root of the host file system'],
    ['/home/me:/h', 'host path /home/me: it is your home directory'],
    ['/etc:/e', 'host path /etc: it is the system directory /etc'],
    ['/var/run/docker.sock:/sock', 'inside the system directory /var/run'],
  ])('refuses --volume %s naming the reason and the flag', (value, why) => {
    const err = thrown(() => assembleMounts('/p/app', '/app', [value], [], guard));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(why);
    expect(err.hint).toMatch(/--allow-(home|system-paths)/);
  });

  it('refuses a container path that normalises onto /etc', () => {
    const err = thrown(() => parseVolumeArg('/srv/x:/a/../etc', 'cli'));
    expect(err.message).toBe(
      "Invalid --volume '/srv/x:/a/../etc': container path /etc: podman writes hostname, hosts and resolv.conf into /etc, which would land in the host directory",
    );
  });

  it('applies the guard to config volumes too, and lets the flags through', () => {
    expect(thrown(() => assembleMounts('/p/app', '/app', [], ['/usr:/u'], guard)).message).toMatch(
      /in config container.volumes: host path \/usr/,
    );
    expect(
      assembleMounts('/p/app', '/app', ['/usr:/u:ro'], [], { homeDir: HOME, allow: { home: false, system: true } }),
    ).toHaveLength(2);
    expect(
      assembleMounts('/p/app', '/app', ['/home/me:/h'], [], { homeDir: HOME, allow: { home: true, system: false } }),
    ).toHaveLength(2);
  });

  it('never checks named volumes or the project against the host guard', () => {
    expect(assembleMounts('/home/me/app', '/app', ['data:/d'], [], guard)).toHaveLength(2);
  });
});
