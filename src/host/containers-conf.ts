import { MinoError } from '../common/errors.js';
import type { SetKeyOptions } from '../common/toml-edit.js';

/**
 * Editing containers.conf without clobbering it: one key is replaced or inserted in place with the
 * common TOML editor (src/common/toml-edit.ts), every other line (comments included) stays as it
 * was, and the result must still parse as TOML.
 */

/**
 * The containers.conf a user owns: system-wide for root, per-user for everyone else
 * (`$XDG_CONFIG_HOME/containers/containers.conf`, default `~/.config/...`).
 */
export function userContainersConfPath(
  uid: number,
  home: string | undefined,
  xdgConfigHome: string | undefined,
): string {
  if (uid === 0) return '/etc/containers/containers.conf';
  const base = xdgConfigHome?.startsWith('/') ? xdgConfigHome : `${home ?? ''}/.config`;
  return `${base}/containers/containers.conf`;
}

/**
 * How mino edits containers.conf and storage.conf: a new key goes right below its table header
 * (ahead of the commented examples these files are full of), and a comment after a replaced value
 * goes with it (it described the old value).
 */
export const CONF_EDIT: SetKeyOptions = { newKeyAt: 'top', keepComment: false };

/** Parses containers.conf text (smol-toml, loaded on demand), naming the file on error. */
export async function parseContainersConf(path: string, text: string): Promise<Record<string, unknown>> {
  const { parse } = await import('smol-toml');
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MinoError(`${path} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, {
      hint: `Fix or move ${path}; mino only edits a containers.conf it can parse`,
      cause: err,
    });
  }
}

/**
 * Merges ulimit settings into an existing `default_ulimits` list: entries for other limits are
 * kept, entries for the same limit names are replaced.
 */
export function mergeUlimits(existing: readonly string[], wanted: readonly string[]): string[] {
  const names = new Set(wanted.map((u) => u.split('=')[0]));
  return [...existing.filter((u) => !names.has(u.split('=')[0])), ...wanted];
}
