import { posix } from 'node:path';
import { printable } from '../common/printable.js';
import { namedVolumeName } from './named-volume.js';
import { isVolumeSlug } from './volume-slug.js';

/**
 * The syntax of a volume specification, `HOST:CONTAINER[:ro|:rw]` or `VOLUME:CONTAINER[:ro|:rw]`,
 * shared by `--volume`, config `container.volumes` (validated when a file is read and by
 * `mino config set`) and the run plan. Stricter than mino 1.6, which passed volume strings to
 * podman unchecked:
 * - HOST is an absolute path, or the name (slug) of a mino named volume (`my-data:/data`), which
 *   mounts the podman volume `mino-vol-my-data`; `~` and relative paths are not expanded, and
 *   raw podman volume names are not accepted;
 * - CONTAINER must be absolute, and not a path podman or the kernel own (see
 *   {@link volumeTargetRefusal}), also when written as `/a/../etc`;
 * - the mode is `ro` or `rw` only (no `z`, `Z`, `U`, option lists);
 * - `,` anywhere, a `:` inside either path and control characters are refused (podman would split
 *   or misread the specification);
 * - both paths are normalised (`/a/../b/` → `/b`), so duplicate targets are found reliably.
 * Whether a host path may be exposed at all is the run's guard (src/launch/volume-guard.ts).
 */

/** A parsed volume specification. */
export interface VolumeSpec {
  /** Normalised absolute host path, or the podman volume `mino-vol-<slug>`. */
  source: string;
  /** Normalised absolute container path. */
  target: string;
  readOnly: boolean;
  /** The slug when the source is a mino named volume. */
  volume?: string;
}

/** Why a specification is invalid, and what to do. */
export class VolumeSpecError extends Error {
  constructor(
    readonly why: string,
    readonly hint: string = VOLUME_SPEC_HINT,
  ) {
    super(why);
    this.name = 'VolumeSpecError';
  }
}

/** The hint for a malformed specification. */
export const VOLUME_SPEC_HINT =
  'Write HOST:CONTAINER[:ro] with absolute paths, e.g. /home/me/data:/data:ro, or VOLUME:CONTAINER[:ro] for a volume from mino volume list';

/** Container paths a volume may not be mounted at, nor below. */
const CONTAINER_RESERVED_TREES: readonly string[] = ['/proc', '/sys', '/dev', '/run'];

/** Container paths a volume may not replace (mounting below them is fine). */
const CONTAINER_RESERVED_DIRS: readonly string[] = [
  '/',
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/var',
  '/boot',
];

function within(path: string, tree: string): boolean {
  return path === tree || path.startsWith(`${tree}/`);
}

/**
 * Why the normalised container path `target` may not take a volume, or undefined when it may:
 * `/etc` (podman writes hostname, hosts and resolv.conf into it — into the host directory mounted
 * there), `/run`, `/proc`, `/sys`, `/dev` and below, and the system directories whose replacement
 * leaves no working container.
 */
export function volumeTargetRefusal(target: string): string | undefined {
  const tree = CONTAINER_RESERVED_TREES.find((t) => within(target, t));
  if (tree !== undefined) return `${tree} in the container belongs to podman and the kernel`;
  if (target === '/') return 'it would replace the container root /';
  if (target === '/etc')
    return 'podman writes hostname, hosts and resolv.conf into /etc, which would land in the host directory';
  if (CONTAINER_RESERVED_DIRS.includes(target)) return `it would replace the container's system directory ${target}`;
  return undefined;
}

/** `path` normalised without a trailing slash (`/a/./b/` → `/a/b`). */
function normalise(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Parses one specification; throws a {@link VolumeSpecError} naming the reason. */
export function parseVolumeSpec(value: string): VolumeSpec {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new VolumeSpecError('contains a control character');
  if (value.includes(',')) throw new VolumeSpecError("contains ',' (mount options are not supported)");
  const parts = value.split(':');
  if (parts.length < 2) throw new VolumeSpecError('expected HOST:CONTAINER[:ro|:rw]');
  const [host = '', target = '', mode] = parts;
  if (parts.length > 3 || mode?.includes('/')) {
    throw new VolumeSpecError(
      "a path contains ':'",
      "Paths with ':' cannot be mounted; rename the directory or mount a parent",
    );
  }
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw')
    throw new VolumeSpecError(`unknown mode '${mode}' (only ro or rw)`);
  const slug = !host.startsWith('/') && isVolumeSlug(host) ? host : undefined;
  if (!host.startsWith('/') && slug === undefined) {
    throw new VolumeSpecError(
      `host path '${host}' is not absolute`,
      "Give the full host path, e.g. /home/me/data:/data, or a volume name from 'mino volume list' ('~' and relative paths are not supported)",
    );
  }
  if (!target.startsWith('/')) throw new VolumeSpecError(`container path '${target}' is not absolute`);
  const cleanTarget = normalise(target);
  if (cleanTarget === '/') throw new VolumeSpecError('cannot mount over the container root /');
  const reserved = volumeTargetRefusal(cleanTarget);
  if (reserved)
    throw new VolumeSpecError(
      `container path ${printable(cleanTarget)}: ${reserved}`,
      'Mount it somewhere else in the container, e.g. /data',
    );
  if (slug !== undefined)
    return { source: namedVolumeName(slug), target: cleanTarget, readOnly: mode === 'ro', volume: slug };
  return { source: normalise(host), target: cleanTarget, readOnly: mode === 'ro' };
}

/** Why `value` is not a valid specification, or undefined when it is. */
export function volumeSpecProblem(value: string): string | undefined {
  try {
    parseVolumeSpec(value);
    return undefined;
  } catch (err) {
    if (err instanceof VolumeSpecError) return err.why;
    throw err;
  }
}
