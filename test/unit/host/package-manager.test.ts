import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../../src/common/exec.js';
import type { Host } from '../../../src/host/host.js';
import {
  PACKAGE_NAMES,
  detectPackageManager,
  installCommands,
  packageNamesFor,
  type PackageManager,
} from '../../../src/host/package-manager.js';

describe('installCommands', () => {
  it('refreshes the apt lists before installing, without prompts or recommends', () => {
    expect(installCommands('apt-get', ['podman', 'uidmap'])).toEqual([
      ['apt-get', 'update', '-q'],
      [
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '-q',
        '--no-install-recommends',
        'podman',
        'uidmap',
      ],
    ]);
  });

  it.each([
    ['dnf', [['dnf', 'install', '-y', 'podman', 'shadow-utils']]],
    ['pacman', [['pacman', '-S', '--noconfirm', '--needed', 'podman', 'shadow-utils']]],
    ['zypper', [['zypper', '--non-interactive', 'install', 'podman', 'shadow-utils']]],
    ['apk', [['apk', 'add', '--no-cache', 'podman', 'shadow-utils']]],
  ] as const)('installs non-interactively with %s in one command', (pm, expected) => {
    expect(installCommands(pm, ['podman', 'shadow-utils'])).toEqual(expected);
  });

  it.each(['libstdc++6', 'python3.11', 'shadow-uidmap', 'g++', 'Foo_bar'])('accepts the package name %s', (name) => {
    expect(installCommands('dnf', [name])).toEqual([['dnf', 'install', '-y', name]]);
  });

  it.each(['-y', '--allow-unauthenticated', 'podman; rm -rf /', 'a b', '', '.hidden', 'pkg\n'])(
    'refuses the package name %j before running anything',
    (name) => {
      expect(() => installCommands('apt-get', ['podman', name])).toThrow(new Error(`invalid package name ${name}`));
    },
  );
});

describe('packageNamesFor', () => {
  it.each([
    ['apt-get', ['podman', 'uidmap', 'slirp4netns', 'runc']],
    ['dnf', ['podman', 'shadow-utils', 'slirp4netns', 'runc']],
    ['pacman', ['podman', 'shadow', 'slirp4netns', 'runc']],
    ['zypper', ['podman', 'shadow', 'slirp4netns', 'runc']],
    ['apk', ['podman', 'shadow-uidmap', 'slirp4netns', 'runc']],
  ] as const)('maps the logical names to the %s package names', (pm, expected) => {
    expect(packageNamesFor(pm, ['podman', 'uidmap', 'slirp4netns', 'runc'])).toEqual(expected);
  });

  it('knows every logical package for every manager', () => {
    const managers: PackageManager[] = ['apt-get', 'dnf', 'pacman', 'zypper', 'apk'];
    for (const [logical, names] of Object.entries(PACKAGE_NAMES)) {
      for (const pm of managers) expect(names[pm], `${logical} for ${pm}`).toMatch(/^[a-z0-9][a-z0-9.+_-]*$/);
    }
  });
});

describe('detectPackageManager', () => {
  const result = (exitCode: number, stdout = ''): ExecResult => ({ stdout, stderr: '', exitCode, signal: null });
  /** A host whose programs all answer through `run`. */
  const host = (run: (argv: readonly string[]) => Promise<ExecResult>): Host => ({
    name: 'test host',
    run,
    command: () => {
      throw new Error('not started');
    },
  });

  it('asks the shell for each manager in order and returns the first one found', async () => {
    const asked: string[][] = [];
    const pm = await detectPackageManager(
      host(async (argv) => {
        asked.push([...argv]);
        return argv[4] === 'pacman' ? result(0, '/usr/bin/pacman\n') : result(1);
      }),
    );
    expect(pm).toBe('pacman');
    expect(asked).toEqual([
      ['sh', '-c', 'command -v "$1"', 'sh', 'apt-get'],
      ['sh', '-c', 'command -v "$1"', 'sh', 'dnf'],
      ['sh', '-c', 'command -v "$1"', 'sh', 'pacman'],
    ]);
  });

  it('prefers apt-get when several are installed', async () => {
    expect(await detectPackageManager(host(async (argv) => result(0, `/usr/bin/${argv[4]}\n`)))).toBe('apt-get');
  });

  it('skips a manager whose check fails to run or prints nothing', async () => {
    const pm = await detectPackageManager(
      host(async (argv) => {
        if (argv[4] === 'apt-get') throw new Error('boom');
        if (argv[4] === 'dnf') return result(0, '  \n');
        return argv[4] === 'apk' ? result(0, '/sbin/apk\n') : result(127);
      }),
    );
    expect(pm).toBe('apk');
  });

  it('returns undefined when none is installed', async () => {
    expect(await detectPackageManager(host(async () => result(1)))).toBeUndefined();
  });
});
