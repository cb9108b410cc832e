import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import {
  configuredDriver,
  explicitDriver,
  rootlessGraphRoot,
  setStorageDriver,
  userStorageConfPath,
  type StorageEnv,
} from '../../../src/host/storage-conf.js';

const ENV: StorageEnv = { uid: 1000, user: 'ann', home: '/home/ann' };

describe('userStorageConfPath', () => {
  it('uses $CONTAINERS_STORAGE_CONF, then $XDG_CONFIG_HOME, then ~/.config', () => {
    expect(userStorageConfPath(ENV)).toBe('/home/ann/.config/containers/storage.conf');
    expect(userStorageConfPath({ ...ENV, xdgConfigHome: '/cfg' })).toBe('/cfg/containers/storage.conf');
    expect(userStorageConfPath({ ...ENV, xdgConfigHome: 'relative' })).toBe(
      '/home/ann/.config/containers/storage.conf',
    );
    expect(userStorageConfPath({ ...ENV, xdgConfigHome: '/cfg', forcedConf: '/etc/x.conf' })).toBe('/etc/x.conf');
  });
});

describe('rootlessGraphRoot', () => {
  it('defaults to $XDG_DATA_HOME or ~/.local/share', () => {
    expect(rootlessGraphRoot(ENV, undefined, undefined)).toBe('/home/ann/.local/share/containers/storage');
    expect(rootlessGraphRoot({ ...ENV, xdgDataHome: '/data' }, undefined, undefined)).toBe('/data/containers/storage');
  });

  it("prefers the user's graphroot, then the system's rootless_storage_path (with $HOME/$UID/$USER)", () => {
    const system = {
      storage: { graphroot: '/var/lib/containers/storage', rootless_storage_path: '/srv/c/$USER-$UID' },
    };
    expect(rootlessGraphRoot(ENV, undefined, system)).toBe('/srv/c/ann-1000');
    expect(rootlessGraphRoot(ENV, { storage: { graphroot: '$HOME/store' } }, system)).toBe('/home/ann/store');
    expect(rootlessGraphRoot(ENV, { storage: { driver: 'overlay' } }, system)).toBe('/srv/c/ann-1000');
    // With $CONTAINERS_STORAGE_CONF podman reads only that file.
    expect(rootlessGraphRoot({ ...ENV, forcedConf: '/x.conf' }, undefined, system)).toBe(
      '/home/ann/.local/share/containers/storage',
    );
  });
});

describe('explicitDriver', () => {
  const user = { path: '/home/ann/.config/containers/storage.conf', parsed: { storage: { driver: 'vfs' } } };
  const system = { path: '/etc/containers/storage.conf', parsed: { storage: { driver: 'overlay' } } };

  it('finds $STORAGE_DRIVER, then the user file, then the system file', () => {
    expect(explicitDriver({ ...ENV, driverEnv: 'btrfs' }, user, system)).toEqual({
      driver: 'btrfs',
      source: '$STORAGE_DRIVER',
    });
    expect(explicitDriver(ENV, user, system)).toEqual({ driver: 'vfs', source: user.path });
    expect(explicitDriver(ENV, { ...user, parsed: { storage: { driver: '' } } }, system)).toEqual({
      driver: 'overlay',
      source: system.path,
    });
    expect(explicitDriver({ ...ENV, forcedConf: '/x.conf' }, undefined, system)).toBeUndefined();
    expect(explicitDriver(ENV, undefined, undefined)).toBeUndefined();
  });

  it('reads [storage] driver only', () => {
    expect(configuredDriver({ driver: 'vfs' })).toBeUndefined();
    expect(
      configuredDriver({ storage: { options: { overlay: { mount_program: '/usr/bin/fuse-overlayfs' } } } }),
    ).toBeUndefined();
    expect(configuredDriver({ storage: { driver: 'overlay' } })).toBe('overlay');
  });
});

describe('setStorageDriver', () => {
  it('creates the table in an empty or missing file', () => {
    expect(setStorageDriver('', 'overlay')).toBe('[storage]\ndriver = "overlay"\n');
  });

  it('replaces the driver in place and keeps comments, other keys and tables', () => {
    const before = [
      '# my storage settings',
      '[storage]',
      'driver = "vfs"  # slow',
      'runroot = "/run/user/1000/containers"',
      '',
      '[storage.options]',
      'additionalimagestores = [',
      '  "/srv/images",',
      ']',
      '',
    ].join('\n');
    const after = setStorageDriver(before, 'overlay');
    expect(after).toBe(before.replace('driver = "vfs"  # slow', 'driver = "overlay"'));
    expect(parse(after)).toEqual({
      storage: {
        driver: 'overlay',
        runroot: '/run/user/1000/containers',
        options: { additionalimagestores: ['/srv/images'] },
      },
    });
  });

  it('adds the key below an existing [storage] header, not into a sub-table', () => {
    const before =
      '[storage]\ngraphroot = "/data/c"\n\n[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n';
    const after = setStorageDriver(before, 'overlay');
    expect(parse(after)).toEqual({
      storage: {
        driver: 'overlay',
        graphroot: '/data/c',
        options: { overlay: { mount_program: '/usr/bin/fuse-overlayfs' } },
      },
    });
    expect(setStorageDriver(after, 'overlay')).toBe(after);
  });

  it('appends a [storage] table to a file with only sub-tables', () => {
    const before = '[storage.options]\npull_options = {enable_partial_images = "false"}';
    const after = setStorageDriver(before, 'overlay');
    expect(after.startsWith(before)).toBe(true);
    expect((parse(after) as { storage: { driver: string } }).storage.driver).toBe('overlay');
  });
});
