import { printable } from '../common/printable.js';

/**
 * What host directory a session may get: the one guard of the project directory (project-guard.ts)
 * and of every `--volume` (or config `container.volumes`) bind mount, with the same list, flags and
 * reasons. mino 1.6 passed any `HOST:CONTAINER` to podman, so `--volume /:/host` handed the agent
 * the whole machine read-write; and `-p /run` was accepted while `--volume /run:/r` was not, so a
 * rootful agent read mino's own session directories under /run/mino.
 *
 * Host side (the canonical path, symbolic links resolved by the caller):
 * - `/`, the user's home directory and its ancestors: refused unless `--allow-home`;
 * - system directories and everything below them (/etc, /usr, /run with the engine's and the
 *   agent sockets, /proc, /dev, …, and the container stores /var/lib/containers, /var/lib/docker):
 *   refused unless `--allow-system-paths`;
 * - every other user's home directory (from the passwd database) and its ancestors: refused unless
 *   `--allow-home` (as root, `--volume /home/alice:/a` otherwise handed over alice's keys);
 * - mino's own configuration, state and data directories, what is inside them and their ancestors
 *   (`~/.config`, `~/.local/state`): refused unless `--allow-home` (an agent that can write them
 *   changes how later sessions run: protected paths, volumes, pool specifications).
 * The container side is part of the specification's syntax (volume/volume-spec.ts).
 */

/** Host directories refused as volume sources, with everything below them. */
const HOST_SYSTEM_TREES: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/run',
  '/var/lib/containers',
  '/var/lib/docker',
];

/** Host directories refused as volume sources themselves (their other subdirectories are fine). */
const HOST_SYSTEM_DIRS: readonly string[] = ['/var', '/var/lib', '/root', '/home'];

/** What the user allowed explicitly. */
export interface VolumeAllowance {
  /** `--allow-home`: `/`, the home directory and its ancestors. */
  home: boolean;
  /** `--allow-system-paths`: system directories. */
  system: boolean;
}

/** A user's home directory (canonical path), from the passwd database. */
export interface UserHome {
  user: string;
  home: string;
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
 * Why the canonical host path `source` may not be mounted (as the project or a volume), or
 * undefined when it may. `homeDir` is the user's canonical home directory, `otherHomes` every
 * user's home from the passwd database (the user's own among them is fine).
 */
export function volumeSourceRefusal(
  source: string,
  homeDir: string,
  allow: VolumeAllowance,
  otherHomes: readonly UserHome[] = [],
  minoDirs: readonly string[] = [],
): VolumeRefusal | undefined {
  const homeOrAbove = source === '/' || source === homeDir || homeDir.startsWith(`${source}/`);
  if (homeOrAbove) {
    if (allow.home) return undefined;
    if (source === '/') return { why: 'it is the root of the host file system', flag: '--allow-home' };
    if (source === homeDir) return { why: 'it is your home directory', flag: '--allow-home' };
    return { why: `it contains your home directory ${printable(homeDir)}`, flag: '--allow-home' };
  }
  if (!allow.system) {
    const tree = HOST_SYSTEM_TREES.find((t) => within(source, t));
    if (tree !== undefined)
      return {
        why: `it is ${source === tree ? 'the' : 'inside the'} system directory ${tree}`,
        flag: '--allow-system-paths',
      };
    if (HOST_SYSTEM_DIRS.includes(source))
      return { why: `it is the system directory ${source}`, flag: '--allow-system-paths' };
  }
  if (allow.home) return undefined;
  const own = minoDirs.find((d) => within(source, d) || d.startsWith(`${source}/`));
  if (own !== undefined) {
    return {
      why: `it ${within(source, own) ? 'is or is inside' : 'contains'} mino's own directory ${printable(own)} (its configuration and state: the agent could change how later sessions run)`,
      flag: '--allow-home',
    };
  }
  const other = otherHomes.find(
    (h) => h.home !== '/' && h.home !== homeDir && (source === h.home || h.home.startsWith(`${source}/`)),
  );
  if (other !== undefined) {
    return source === other.home
      ? { why: `it is the home directory of user ${printable(other.user)}`, flag: '--allow-home' }
      : {
          why: `it contains the home directory ${printable(other.home)} of user ${printable(other.user)}`,
          flag: '--allow-home',
        };
  }
  return undefined;
}
