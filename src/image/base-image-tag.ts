/**
 * Names of the mino-base image. Each build is tagged with the first 12 hex digits of the content
 * hash of `layers/base/`, and `latest` is moved to the current one, so sessions can name
 * `localhost/mino-base:latest` while an upgrade of mino still builds a fresh image.
 */

/** Repository of the base image. */
const BASE_IMAGE_REPO = 'localhost/mino-base';
/** The stable alias sessions use. */
export const BASE_IMAGE_LATEST = `${BASE_IMAGE_REPO}:latest`;
/** Label carrying the full content hash on every mino-base image. */
export const BASE_HASH_LABEL = 'io.mino.base.hash';

/** `localhost/mino-base:<first 12 hex of hash>`. */
export function baseImageTag(contentHash: string): string {
  if (!/^[0-9a-f]{12,}$/.test(contentHash)) throw new Error(`invalid content hash ${contentHash}`);
  return `${BASE_IMAGE_REPO}:${contentHash.slice(0, 12)}`;
}

/**
 * mino-base tags among `names` (as podman lists them, with or without `localhost/`) that belong
 * to another content hash than `currentTag`: images of older mino versions. `latest` is not one.
 */
export function staleBaseTags(names: readonly string[], currentTag: string): string[] {
  const stale = new Set<string>();
  for (const raw of names) {
    const name = raw.startsWith('localhost/') ? raw : `localhost/${raw}`;
    const m = /^localhost\/mino-base:([0-9a-f]{12})$/.exec(name);
    if (m && name !== currentTag) stale.add(name);
  }
  return [...stale].sort();
}
