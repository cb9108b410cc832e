import { realpathSync } from 'node:fs';
import { errnoCode } from '../common/errno.js';
import { MinoError, UsageError } from '../common/errors.js';
import { printable } from '../runtime/validate.js';

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
