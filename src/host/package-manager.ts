import type { Host } from './host.js';

/** Package managers mino knows how to drive, in detection order. */
export type PackageManager = 'apt-get' | 'dnf' | 'pacman' | 'zypper' | 'apk';

const ORDER: readonly PackageManager[] = ['apt-get', 'dnf', 'pacman', 'zypper', 'apk'];

/** Finds the first known package manager on `host` (this machine, or a VM), or undefined. */
export async function detectPackageManager(host: Host): Promise<PackageManager | undefined> {
  for (const pm of ORDER) {
    const result = await host.run(['sh', '-c', 'command -v "$1"', 'sh', pm]).catch(() => undefined);
    if (result && result.exitCode === 0 && result.stdout.trim() !== '') return pm;
  }
  return undefined;
}

/**
 * The commands (argument arrays, run in order, as root) that install `packages`
 * non-interactively; apt-get refreshes its lists first.
 */
export function installCommands(pm: PackageManager, packages: readonly string[]): string[][] {
  for (const p of packages) {
    if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/.test(p)) throw new Error(`invalid package name ${p}`);
  }
  switch (pm) {
    case 'apt-get':
      return [
        ['apt-get', 'update', '-q'],
        [
          'env',
          'DEBIAN_FRONTEND=noninteractive',
          'apt-get',
          'install',
          '-y',
          '-q',
          '--no-install-recommends',
          ...packages,
        ],
      ];
    case 'dnf':
      return [['dnf', 'install', '-y', ...packages]];
    case 'pacman':
      return [['pacman', '-S', '--noconfirm', '--needed', ...packages]];
    case 'zypper':
      return [['zypper', '--non-interactive', 'install', ...packages]];
    case 'apk':
      return [['apk', 'add', '--no-cache', ...packages]];
  }
}

/** Package names per manager for what rootless podman needs. */
export const PACKAGE_NAMES: Record<string, Partial<Record<PackageManager, string>>> = {
  podman: { 'apt-get': 'podman', dnf: 'podman', pacman: 'podman', zypper: 'podman', apk: 'podman' },
  runc: { 'apt-get': 'runc', dnf: 'runc', pacman: 'runc', zypper: 'runc', apk: 'runc' },
  uidmap: { 'apt-get': 'uidmap', dnf: 'shadow-utils', pacman: 'shadow', zypper: 'shadow', apk: 'shadow-uidmap' },
  catatonit: { 'apt-get': 'catatonit', dnf: 'catatonit', pacman: 'catatonit', zypper: 'catatonit', apk: 'catatonit' },
  slirp4netns: {
    'apt-get': 'slirp4netns',
    dnf: 'slirp4netns',
    pacman: 'slirp4netns',
    zypper: 'slirp4netns',
    apk: 'slirp4netns',
  },
};

/** Maps logical package names to the manager's names; names without a mapping pass through unchanged. */
export function packageNamesFor(pm: PackageManager, logical: readonly string[]): string[] {
  return logical.map((name) => PACKAGE_NAMES[name]?.[pm] ?? name);
}
