import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { canonicalPath } from '../common/canonical-path.js';
import { errnoCode } from '../common/errno.js';
import { MinoError, UsageError } from '../common/errors.js';
import { volumeSourceRefusal } from '../launch/volume-guard.js';
import { printable } from '../common/printable.js';
import { parseVolumeSpec } from '../volume/volume-spec.js';
import { minoPaths } from '../common/xdg-paths.js';
import { ROOTFUL_DEVICE_DIR } from '../config/defaults.js';

/**
 * mino's own directories, canonical (configuration, state, data; rootful also the folder of its
 * private /dev): never mounted into a session without `--allow-home` (launch/volume-guard.ts).
 */
export function minoOwnDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const { configDir, stateDir, dataDir } = minoPaths(env);
  const dirs = [configDir, stateDir, dataDir, ...(process.getuid?.() === 0 ? [dirname(ROOTFUL_DEVICE_DIR)] : [])];
  return dirs.map((d) => canonicalPath(d));
}

/**
 * The host side of `--volume HOST:CONTAINER[:mode]` values made canonical before planning: symbolic
 * links resolved (so the guard judges the real directory: a link to /etc is /etc), and a host path
 * that does not exist refused here, with one clear error, before anything is created (podman would
 * fail later with its own message and leave a failed session behind). Named volumes and values the
 * plan will reject anyway pass through unchanged.
 */
export function canonicalVolumeSources(values: readonly string[], origin: 'cli' | 'config'): string[] {
  return values.map((value) => {
    const colon = value.indexOf(':');
    const host = colon < 0 ? value : value.slice(0, colon);
    if (!host.startsWith('/')) return value;
    try {
      return `${realpathSync(host)}${value.slice(host.length)}`;
    } catch (err) {
      const why = errnoCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoCode(err) ?? String(err)})`;
      const message = `${origin === 'cli' ? `Invalid --volume '${printable(value)}'` : `Invalid volume '${printable(value)}' in config container.volumes`}: host path ${printable(host)} ${why}`;
      const hint = 'Create the directory first (podman would otherwise create it as root), or fix the path';
      throw origin === 'cli' ? new UsageError(message, hint) : new MinoError(message, { hint });
    }
  });
}

/**
 * Refuses, before `mino config set` writes anything, a `container.volumes` value that every run
 * would refuse (volume-guard.ts): `/`, the home directory or an ancestor of it, a system directory.
 * Such a volume can only be mounted for one run, with `--volume` and `--allow-home` or
 * `--allow-system-paths`. Host paths are judged canonical (a link to /etc is /etc); a path that
 * does not exist yet is judged as written (a run refuses it until it exists). Invalid syntax is the
 * schema's business and passes through. Throws a UsageError (exit 2).
 */
export function checkConfigVolumes(values: readonly string[], homeDir: string = canonicalPath(homedir())): void {
  for (const value of values) {
    let spec;
    try {
      spec = parseVolumeSpec(value);
    } catch {
      continue;
    }
    if (spec.volume !== undefined) continue;
    const source = canonicalPath(spec.source);
    const refusal = volumeSourceRefusal(source, homeDir, { home: false, system: false }, [], minoOwnDirs());
    if (refusal === undefined) continue;
    throw new UsageError(
      `Invalid volume '${printable(value)}' for container.volumes: host path ${printable(source)}: ${refusal.why}`,
      `Every run would refuse it, so nothing was written; mount it for one run with --volume ${printable(value)}${refusal.flag ? ` ${refusal.flag}` : ''}, or mount a directory made for the purpose`,
    );
  }
}
