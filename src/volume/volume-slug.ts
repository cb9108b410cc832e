import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Named-volume slugs (`mino volume create my-data`, `mino run --volume my-data:/data`).
 *
 * A slug is a short, safe name:
 * - ASCII letters and digits, `-` and `_` only (the podman volume name is built from it);
 * - starts with a letter or digit (podman's rule; also never reads as an option);
 * - at most {@link MAX_SLUG_LENGTH} characters.
 * Slugs are case-sensitive, like podman volume names.
 */

/** Longest accepted slug. */
export const MAX_SLUG_LENGTH = 63;

const SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** True when `value` is a valid slug (no exception). */
export function isVolumeSlug(value: string): boolean {
  return value.length <= MAX_SLUG_LENGTH && SLUG.test(value);
}

/** Why `value` is not a slug, or undefined when it is one. */
function slugProblem(value: string): string | undefined {
  if (value.length === 0) return 'a volume name cannot be empty';
  if (value.length > MAX_SLUG_LENGTH)
    return `a volume name has at most ${MAX_SLUG_LENGTH} characters (this one has ${value.length})`;
  if (!/^[A-Za-z0-9]/.test(value)) return 'a volume name starts with a letter or digit';
  const bad = [...value].find((c) => !/[A-Za-z0-9_-]/.test(c));
  if (bad !== undefined) return `'${printable(bad)}' is not allowed (only letters, digits, '-' and '_')`;
  return undefined;
}

/** Returns `value` when it is a valid slug; throws a UsageError (exit 2) saying why otherwise. */
export function validateVolumeSlug(value: string): string {
  const problem = slugProblem(value);
  if (problem !== undefined) {
    throw new UsageError(
      `Invalid volume name '${printable(value)}': ${problem}`,
      'Use letters, digits, - and _ (starting with a letter or digit), e.g. my-data',
    );
  }
  return value;
}
