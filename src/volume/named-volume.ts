import { validateVolumeSlug } from './volume-slug.js';

/**
 * How a named volume appears in podman: a volume `mino-vol-<slug>` carrying labels that say it
 * is mino's, which slug it holds and when it was created (a podman volume, not a host directory,
 * so it also works when podman runs in a VM).
 */

/** Prefix of every named volume's podman name. */
export const NAMED_VOLUME_PREFIX = 'mino-vol-';
/** Label marking a named volume (`true`). */
const LABEL_NAMED_VOLUME = 'io.mino.volume';
/** Label holding the slug. */
const LABEL_NAMED_VOLUME_SLUG = 'io.mino.volume.slug';
/** Label holding the creation time (RFC 3339). */
export const LABEL_NAMED_VOLUME_CREATED = 'io.mino.volume.created_at';

/** The podman volume name of a slug (validated): `mino-vol-<slug>`. */
export function namedVolumeName(slug: string): string {
  return `${NAMED_VOLUME_PREFIX}${validateVolumeSlug(slug)}`;
}

/** The slug of a podman volume name, or undefined when it is not a named volume's. */
export function slugOfVolumeName(name: string): string | undefined {
  return name.startsWith(NAMED_VOLUME_PREFIX) ? name.slice(NAMED_VOLUME_PREFIX.length) : undefined;
}

/** The labels of a new named volume, in a fixed order; `extra` (e.g. test labels) comes last. */
export function namedVolumeLabels(
  slug: string,
  createdAt: Date,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    [LABEL_NAMED_VOLUME]: 'true',
    [LABEL_NAMED_VOLUME_SLUG]: validateVolumeSlug(slug),
    [LABEL_NAMED_VOLUME_CREATED]: createdAt.toISOString(),
    ...extra,
  };
}
