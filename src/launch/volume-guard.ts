import { printable } from '../runtime/validate.js';

/**
 * What a `--volume` (or config `container.volumes`) bind mount may expose. The project is guarded
 * (project-guard.ts); a volume is a second way in and gets the same guard: mino 1.6 passed any
 * `HOST:CONTAINER` to podman, so `--volume /:/host` handed the agent the whole machine read-write.
 *
 * Host side (the canonical path, symbolic links resolved by the caller):
 * - `/`, the user's home directory and its ancestors: refused unless `--allow-home` (as for -p);
 * - system directories and everything below them (/etc, /usr, /run with the engine's and the
 *   agent sockets, /proc, /dev, …, and the container stores /var/lib/containers, /var/lib/docker):
 *   refused unless `--allow-system-paths`.
 * Container side (after normalisation, so `/a/../etc` is `/etc`): paths that podman or the kernel
 * own are refused outright: `/etc` (podman writes hostname, hosts and resolv.conf into it — into
 * the host directory mounted there), `/run`, `/proc`, `/sys`, `/dev` and below, and the system
 * directories whose replacement leaves no working container (`/usr`, `/bin`, `/lib`, …).
 */

/** Host directories refused as volume sources, with everything below them. */
export const HOST_SYSTEM_TREES: readonly string[] = [
  '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr',
  '/var/run', '/var/lib/containers', '/var/lib/docker',
];

/** Host directories refused as volume sources themselves (their other subdirectories are fine). */
export const HOST_SYSTEM_DIRS: readonly string[] = ['/var', '/var/lib', '/root', '/home'];

/** Container paths a volume may not be mounted at, nor below. */
export const CONTAINER_RESERVED_TREES: readonly string[] = ['/proc', '/sys', '/dev', '/run'];

/** Container paths a volume may not replace (mounting below them is fine). */
export const CONTAINER_RESERVED_DIRS: readonly string[] = [
  '/', '/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/var', '/boot',
];

/** What the user allowed explicitly. */
export interface VolumeAllowance {
  /** `--allow-home`: `/`, the home directory and its ancestors. */
  home: boolean;
  /** `--allow-system-paths`: system directories. */
  system: boolean;
}

/** A refusal: why, and the flag that would allow it (none for container paths). */
export interface VolumeRefusal {
  why: string;
  flag?: '--allow-home' | '--allow-system-paths';
}

function within(path: string, tree: string): boolean {
  return path === tree || path.startsWith(`${tree}/`);
}

/**
 * Why the canonical host path `source` may not be mounted, or undefined when it may.
 * `homeDir` is the user's canonical home directory.
 */
export function volumeSourceRefusal(source: string, homeDir: string, allow: VolumeAllowance): VolumeRefusal | undefined {
  const homeOrAbove = source === '/' || source === homeDir || homeDir.startsWith(`${source}/`);
  if (homeOrAbove) {
    if (allow.home) return undefined;
    if (source === '/') return { why: 'it is the root of the host file system', flag: '--allow-home' };
    if (source === homeDir) return { why: 'it is your home directory', flag: '--allow-home' };
    return { why: `it contains your home directory ${printable(homeDir)}`, flag: '--allow-home' };
  }
  if (allow.system) return undefined;
  const tree = HOST_SYSTEM_TREES.find((t) => within(source, t));
  if (tree !== undefined) return { why: `it is ${source === tree ? 'the' : 'inside the'} system directory ${tree}`, flag: '--allow-system-paths' };
  if (HOST_SYSTEM_DIRS.includes(source)) return { why: `it is the system directory ${source}`, flag: '--allow-system-paths' };
  return undefined;
}

/** Why the normalised container path `target` may not take a volume, or undefined when it may. */
export function volumeTargetRefusal(target: string): VolumeRefusal | undefined {
  const tree = CONTAINER_RESERVED_TREES.find((t) => within(target, t));
  if (tree !== undefined) return { why: `${tree} in the container belongs to podman and the kernel` };
  if (target === '/') return { why: 'it would replace the container root /' };
  if (target === '/etc') return { why: 'podman writes hostname, hosts and resolv.conf into /etc, which would land in the host directory' };
  if (CONTAINER_RESERVED_DIRS.includes(target)) return { why: `it would replace the container's system directory ${target}` };
  return undefined;
}
