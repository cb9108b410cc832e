import { posix } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import type { MountSpec } from '../runtime/container-runtime.js';
import { printable } from '../runtime/validate.js';
import { namedVolumeName } from '../volume/named-volume.js';
import { isVolumeSlug } from '../volume/volume-slug.js';

/**
 * User bind mounts (`--volume` and config `container.volumes`, both `HOST:CONTAINER[:ro|:rw]`) and
 * the final mount list in mino 1.6's order: project at the workdir, CLI volumes, config volumes,
 * then the home volume. (Cache and SSH-agent mounts are not part of `mino run` yet; they slot in
 * by origin.)
 *
 * Stricter than mino 1.6, which passed volume strings to podman unchecked:
 * - HOST is an absolute path, or the name (slug) of a mino named volume (`my-data:/data`), which
 *   mounts the podman volume `mino-vol-my-data`; `~` and relative paths are not expanded, and
 *   raw podman volume names are not accepted;
 * - CONTAINER must be absolute and not `/`;
 * - the mode is `ro` or `rw` only (no `z`, `Z`, `U`, option lists);
 * - `,` anywhere, a `:` inside either path and control characters are refused (podman would split
 *   or misread the specification);
 * - both paths are normalised (`/a/../b/` → `/b`), so duplicate targets are found reliably.
 */

/** Where a mount comes from, for error messages and `mino list`. */
export type MountOrigin = 'project' | 'cli' | 'config' | 'home' | 'cache' | 'credentials';

/** A mount with its origin. `spec.mounts` gets the plain {@link MountSpec} part. */
export interface PlannedMount extends MountSpec {
  origin: MountOrigin;
  /** The slug when the source is a mino named volume (`source` is then `mino-vol-<slug>`). */
  volume?: string;
}

/** Human description of an origin: `--volume`, `config container.volumes`, `the project directory`. */
export function describeOrigin(origin: MountOrigin): string {
  switch (origin) {
    case 'project': return 'the project directory';
    case 'cli': return '--volume';
    case 'config': return 'config container.volumes';
    case 'home': return 'the home volume';
    case 'cache': return 'a dependency cache';
    case 'credentials': return 'a credential mount';
  }
}

const VOLUME_HINT = 'Write HOST:CONTAINER[:ro] with absolute paths, e.g. /home/me/data:/data:ro, or VOLUME:CONTAINER[:ro] for a volume from mino volume list';

function volumeError(origin: 'cli' | 'config', value: string, why: string, hint = VOLUME_HINT): MinoError {
  return origin === 'cli'
    ? new UsageError(`Invalid --volume '${printable(value)}': ${why}`, hint)
    : new MinoError(`Invalid volume '${printable(value)}' in config container.volumes: ${why}`, { hint });
}

/** `path` normalised without a trailing slash (`/a/./b/` → `/a/b`). */
function normalise(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * Parses one `HOST:CONTAINER[:ro|:rw]` or `VOLUME:CONTAINER[:ro|:rw]` volume string (VOLUME: a
 * named-volume slug; whether it exists is checked by the caller, not here). Throws a UsageError (CLI, exit 2) or a
 * MinoError (config) whose message names the value and the reason.
 */
export function parseVolumeArg(value: string, origin: 'cli' | 'config'): PlannedMount {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw volumeError(origin, value, 'contains a control character');
  if (value.includes(',')) throw volumeError(origin, value, "contains ',' (mount options are not supported)");
  const parts = value.split(':');
  if (parts.length < 2) throw volumeError(origin, value, 'expected HOST:CONTAINER[:ro|:rw]');
  const [host = '', target = '', mode] = parts;
  if (parts.length > 3 || (mode !== undefined && mode.includes('/'))) {
    throw volumeError(origin, value, "a path contains ':'", 'Paths with \':\' cannot be mounted; rename the directory or mount a parent');
  }
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') {
    throw volumeError(origin, value, `unknown mode '${mode}' (only ro or rw)`);
  }
  const slug = !host.startsWith('/') && isVolumeSlug(host) ? host : undefined;
  if (!host.startsWith('/') && slug === undefined) {
    throw volumeError(
      origin, value, `host path '${host}' is not absolute`,
      "Give the full host path, e.g. /home/me/data:/data, or a volume name from 'mino volume list' ('~' and relative paths are not supported)",
    );
  }
  if (!target.startsWith('/')) throw volumeError(origin, value, `container path '${target}' is not absolute`);
  const cleanTarget = normalise(target);
  if (cleanTarget === '/') throw volumeError(origin, value, 'cannot mount over the container root /');
  if (slug !== undefined) return { source: namedVolumeName(slug), target: cleanTarget, readOnly: mode === 'ro', origin, volume: slug };
  return { source: normalise(host), target: cleanTarget, readOnly: mode === 'ro', origin };
}

/**
 * The mount list in order: project directory at `workdir` (read-write), then CLI volumes, then
 * config volumes. Two mounts with the same container path are an error naming both sources;
 * an exact repeat (same source, target and mode, e.g. a config volume also given on the CLI) is
 * kept once.
 */
export function assembleMounts(
  projectDir: string, workdir: string, cliVolumes: readonly string[], configVolumes: readonly string[],
): PlannedMount[] {
  const candidates: PlannedMount[] = [
    { source: projectDir, target: workdir, readOnly: false, origin: 'project' },
    ...cliVolumes.map((v) => parseVolumeArg(v, 'cli')),
    ...configVolumes.map((v) => parseVolumeArg(v, 'config')),
  ];
  const byTarget = new Map<string, PlannedMount>();
  const result: PlannedMount[] = [];
  for (const m of candidates) {
    const seen = byTarget.get(m.target);
    if (seen === undefined) {
      byTarget.set(m.target, m);
      result.push(m);
      continue;
    }
    if (seen.source === m.source && seen.readOnly === m.readOnly) continue;
    throw new MinoError(
      `Two mounts use the container path ${printable(m.target)}: ${printable(seen.source)} (${describeOrigin(seen.origin)}) ` +
        `and ${printable(m.source)} (${describeOrigin(m.origin)})`,
      { hint: 'Each container path can be mounted once; change or remove one of the volumes' },
    );
  }
  return result;
}

/** The plain {@link MountSpec}s of planned mounts (origin dropped). */
export function toMountSpecs(mounts: readonly PlannedMount[]): MountSpec[] {
  return mounts.map(({ source, target, readOnly, chown }) => ({ source, target, readOnly, ...(chown ? { chown } : {}) }));
}
