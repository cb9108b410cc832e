import { EXIT_USAGE, MinoError, UsageError } from '../common/errors.js';
import type { MountSpec } from '../runtime/container-runtime.js';
import { printable } from '../common/printable.js';
import { parseVolumeSpec, VOLUME_SPEC_HINT, VolumeSpecError } from '../volume/volume-spec.js';
import { volumeSourceRefusal, type UserHome, type VolumeAllowance } from './volume-guard.js';

/**
 * User bind mounts (`--volume` and config `container.volumes`, syntax in volume/volume-spec.ts) and
 * the final mount list in mino 1.6's order: project at the workdir, CLI volumes, config volumes,
 * then the home volume and the caches (added by the plan by origin). Host paths pass the run's
 * guard (volume-guard.ts).
 */

/** Where a mount comes from, for error messages and `mino list`. */
type MountOrigin = 'project' | 'cli' | 'config' | 'home' | 'cache' | 'egress' | 'credentials' | 'protect' | 'branch';

/** A mount with its origin. `spec.mounts` gets the plain {@link MountSpec} part. */
export interface PlannedMount extends MountSpec {
  origin: MountOrigin;
  /** The slug when the source is a mino named volume (`source` is then `mino-vol-<slug>`). */
  volume?: string;
}

/** Human description of an origin: `--volume`, `config container.volumes`, `the project directory`. */
function describeOrigin(origin: MountOrigin): string {
  switch (origin) {
    case 'project':
      return 'the project directory';
    case 'cli':
      return '--volume';
    case 'config':
      return 'config container.volumes';
    case 'home':
      return 'the home volume';
    case 'cache':
      return 'a dependency cache';
    case 'egress':
      return "the egress proxy's ssh configuration";
    case 'credentials':
      return 'a credential mount';
    case 'protect':
      return 'a protected path';
    case 'branch':
      return "the host repository's objects (--branch)";
  }
}

function volumeError(origin: 'cli' | 'config', value: string, why: string, hint = VOLUME_SPEC_HINT): MinoError {
  return origin === 'cli'
    ? new UsageError(`Invalid --volume '${printable(value)}': ${why}`, hint)
    : new MinoError(`Invalid volume '${printable(value)}' in config container.volumes: ${why}`, { hint });
}

/**
 * Parses one volume specification (volume/volume-spec.ts); whether a named volume exists is checked
 * by the caller. Throws a UsageError (CLI, exit 2) or a MinoError (config) whose message names the
 * value and the reason.
 */
export function parseVolumeArg(value: string, origin: 'cli' | 'config'): PlannedMount {
  try {
    return { ...parseVolumeSpec(value), origin };
  } catch (err) {
    if (err instanceof VolumeSpecError) throw volumeError(origin, value, err.why, err.hint);
    throw err;
  }
}

/** What host paths volumes may expose (see volume-guard.ts). */
export interface VolumeGuard {
  /** The user's canonical home directory. */
  homeDir: string;
  allow: VolumeAllowance;
  /** Every user's home directory (passwd database). */
  otherHomes?: readonly UserHome[];
  /** mino's own canonical directories (configuration, state, data). */
  minoDirs?: readonly string[];
}

/** Checks a parsed volume's host path against the guard; returns the mount. */
function guarded(mount: PlannedMount, value: string, guard: VolumeGuard): PlannedMount {
  if (mount.volume !== undefined || mount.origin === 'project') return mount;
  const refusal = volumeSourceRefusal(mount.source, guard.homeDir, guard.allow, guard.otherHomes, guard.minoDirs);
  if (refusal === undefined) return mount;
  const origin = mount.origin === 'config' ? 'config' : 'cli';
  throw volumeError(
    origin,
    value,
    `host path ${printable(mount.source)}: ${refusal.why}`,
    `A volume is mounted into the container as it is${refusal.flag ? `; pass ${refusal.flag} to mount it anyway` : ''}, or mount a directory made for the purpose`,
  );
}

/**
 * The mount list in order: project directory at `workdir` (read-write), then CLI volumes, then
 * config volumes, each host path checked by `guard`. Two mounts with the same container path are
 * a usage error (exit 2) naming both sources; an exact repeat (same source, target and mode, e.g. a config
 * volume also given on the CLI) is kept once.
 */
export function assembleMounts(
  projectDir: string,
  workdir: string,
  cliVolumes: readonly string[],
  configVolumes: readonly string[],
  guard: VolumeGuard,
): PlannedMount[] {
  const candidates: PlannedMount[] = [
    { source: projectDir, target: workdir, readOnly: false, origin: 'project' },
    ...cliVolumes.map((v) => guarded(parseVolumeArg(v, 'cli'), v, guard)),
    ...configVolumes.map((v) => guarded(parseVolumeArg(v, 'config'), v, guard)),
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
      { hint: 'Each container path can be mounted once; change or remove one of the volumes', exitCode: EXIT_USAGE },
    );
  }
  return result;
}

/** The plain {@link MountSpec}s of planned mounts (origin dropped). */
export function toMountSpecs(mounts: readonly PlannedMount[]): MountSpec[] {
  return mounts.map(({ source, target, readOnly, chown }) => ({
    source,
    target,
    readOnly,
    ...(chown ? { chown } : {}),
  }));
}
