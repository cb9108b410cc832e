import { MinoError } from '../common/errors.js';

/**
 * File ownership on the project bind mount. In rootless podman the host user is root inside the
 * container by default, so an image running as `developer` (uid 1000) writes project files owned
 * by a sub-uid the host user cannot edit (and may be unable to write the project at all). mino 1.6
 * never passed `--userns`.
 *
 * Rule (rootless only; rootful containers share the host's uids and get no flag):
 * - image runs as a known non-root uid N: `keep-id:uid=N,gid=G` (G = image gid, default N), so
 *   container uid N is the host user and the image's own files and home stay usable;
 * - image runs as root (uid 0): no flag. Container root already is the host user, so files come
 *   out owned by the host user, and the image keeps root inside (plain `keep-id` would silently
 *   turn a root image into a non-root one);
 * - image user unknown (a name podman could not resolve for us): plain `keep-id`, which runs the
 *   command as the host uid and still gives host-owned files.
 */

/** The image's user, as far as the caller knows it. */
export interface ImageIdentity {
  /** Numeric uid the image runs as (its `USER`), undefined when unknown. */
  uid?: number;
  /** Numeric gid; defaults to `uid`. */
  gid?: number;
}

function checkId(kind: string, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) throw new MinoError(`Invalid image ${kind} ${id}: expected an integer from 0 to 4294967294`);
  return id;
}

/** The `--userns` value for a run, or undefined for none. */
export function usernsFor(rootless: boolean, image: ImageIdentity): string | undefined {
  if (!rootless) return undefined;
  if (image.uid === undefined) return 'keep-id';
  const uid = checkId('uid', image.uid);
  if (uid === 0) return undefined;
  const gid = checkId('gid', image.gid ?? uid);
  return `keep-id:uid=${uid},gid=${gid}`;
}
