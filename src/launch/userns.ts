import { MinoError } from '../common/errors.js';

/**
 * Who the container's user is on the host. mino 1.6 never passed `--userns`: rootless, an image
 * running as `developer` (uid 1000) wrote project files owned by a sub-uid the host user could not
 * edit; rootful, it could not write a root-owned project at all, and container root was host root.
 *
 * Rootless (podman maps the host user into the container):
 * - image runs as a known non-root uid N: `keep-id:uid=N,gid=G`, so container uid N is the host
 *   user and the image's own files and home stay usable;
 * - image runs as root (uid 0): no flag. Container root already is the host user;
 * - image user unknown: plain `keep-id` (the command runs as the host uid; files stay the user's).
 *
 * Rootful (root runs podman): an explicit user namespace (`--uidmap`/`--gidmap`) in which the
 * image's user, whoever it is (root included), is the project's owner on the host, so the agent can
 * write the project and what it creates belongs to that owner, and every other container uid is an
 * unprivileged host uid from the range starting at `rootfulBase` (65536 ids).
 *
 * When the project belongs to root, the image's user is host uid 0 inside the namespace (no
 * capabilities, no-new-privileges): it owns, and so could chmod or re-time, every root-owned inode
 * the container reaches. Besides the mounts, runc would bind the host's own /dev/null, /dev/zero,
 * /dev/tty … into the container (and over podman's masked /proc paths). Such a run therefore gets
 * {@link IdentityFlags.privateDevices}: a read-only /dev of mino's own device nodes.
 * (Idmapped mounts, which would keep container root unprivileged outside the project, need runc
 * 1.2 or crun; podman 4.3 passes `idmap` to runc 1.1, which ignores it.)
 */

/** Container uids (and gids) a rootful session maps. */
export const MAPPED_IDS = 65536;

/** The image's user, as far as the caller knows it. */
export interface ImageIdentity {
  /** Numeric uid the image runs as (its `USER`), undefined when unknown. */
  uid?: number;
  /** Numeric gid; defaults to `uid`. */
  gid?: number;
}

/** The `--userns` / `--uidmap` / `--gidmap` values of a run. */
export interface IdentityFlags {
  /** `--userns` value (rootless). */
  userns?: string;
  /** `--uidmap container:host:size` values (rootful). */
  uidMap?: string[];
  /** `--gidmap container:host:size` values (rootful). */
  gidMap?: string[];
  /**
   * True when a container id is host root (rootful, root-owned project): the run needs a /dev
   * whose device nodes are not the host's (see the module comment).
   */
  privateDevices?: boolean;
  /**
   * `--user UID:GID` (rootful) for an image whose USER names a uid without a group: podman would
   * run it with the group of its /etc/passwd entry, or 0 without one, not the group mapped onto
   * the project owner's (rootless, keep-id sets the same uid:gid).
   */
  user?: string;
}

/** Inputs of {@link identityFlags}. */
export interface IdentityInput {
  rootless: boolean;
  image: ImageIdentity;
  /** Owner of the project directory on the host (rootful mapping). */
  projectOwner: { uid: number; gid: number };
  /** First host id of the unprivileged range rootful sessions use (see defaults.ts). */
  rootfulBase: number;
}

/**
 * The identity of an image's `Config.User` (`''` and `root` are uid 0; `uid`, `uid:gid`, also with
 * `root` as the group). A user or group name other than root cannot be resolved without reading the
 * image's /etc/passwd: undefined (unknown), and rootless runs then keep the host uid as is.
 */
export function parseImageUser(user: string): ImageIdentity | undefined {
  const [u = '', g] = user.trim().split(':');
  const id = (v: string): number | undefined =>
    v === '' || v === 'root' ? 0 : /^\d{1,10}$/.test(v) ? Number(v) : undefined;
  const uid = id(u);
  if (uid === undefined || uid > 0xfffffffe) return undefined;
  if (g === undefined) return { uid };
  const gid = id(g);
  return gid === undefined || gid > 0xfffffffe ? undefined : { uid, gid };
}

function checkId(kind: string, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe)
    throw new MinoError(`Invalid image ${kind} ${id}: expected an integer from 0 to 4294967294`);
  return id;
}

/** The `--userns` value for a rootless run, or undefined for none. */
export function usernsFor(rootless: boolean, image: ImageIdentity): string | undefined {
  if (!rootless) return undefined;
  if (image.uid === undefined) return 'keep-id';
  const uid = checkId('uid', image.uid);
  if (uid === 0) return undefined;
  const gid = checkId('gid', image.gid ?? uid);
  return `keep-id:uid=${uid},gid=${gid}`;
}

/**
 * The id map of a rootful session for one kind of id: container `inner` is host `host`, every
 * other container id `c` is host `base + c` (container ids 0..MAPPED_IDS-1); without `host`, all
 * of them are. Host `host` must lie outside the base range (it is a real user's id).
 */
export function rootfulIdMap(inner: number, host: number | undefined, base: number): string[] {
  if (!Number.isInteger(base) || base < 65536 || base + MAPPED_IDS > 0xffffffff) {
    throw new MinoError(`Invalid id range start ${base} for rootful sessions`, {
      hint: 'Use a start of at least 65536 with 65536 ids free above it',
    });
  }
  if (host === undefined) return [`0:${base}:${MAPPED_IDS}`];
  if (host >= base && host < base + MAPPED_IDS) {
    throw new MinoError(
      `The project owner's id ${host} lies in the range mino maps container ids to (${base}-${base + MAPPED_IDS - 1})`,
    );
  }
  const map: string[] = [];
  if (inner > 0) map.push(`0:${base}:${inner}`);
  map.push(`${inner}:${host}:1`);
  if (inner + 1 < MAPPED_IDS) map.push(`${inner + 1}:${base + inner + 1}:${MAPPED_IDS - inner - 1}`);
  return map;
}

/** The identity flags of a run; see the module comment. */
export function identityFlags(input: IdentityInput): IdentityFlags {
  if (input.rootless) {
    const userns = usernsFor(true, input.image);
    return userns === undefined ? {} : { userns };
  }
  // Unknown user: most images without USER run as root.
  const uid = checkId('uid', input.image.uid ?? 0);
  const gid = checkId('gid', input.image.gid ?? input.image.uid ?? 0);
  if (uid >= MAPPED_IDS || gid >= MAPPED_IDS) {
    throw new MinoError(`The image runs as uid ${uid}/gid ${gid}, above the ${MAPPED_IDS} ids a rootful session maps`, {
      hint: 'Use an image whose user id is below 65536',
    });
  }
  const owner = input.projectOwner;
  return {
    uidMap: rootfulIdMap(uid, owner.uid, input.rootfulBase),
    gidMap: rootfulIdMap(gid, owner.gid, input.rootfulBase),
    ...(owner.uid === 0 ? { privateDevices: true } : {}),
    ...(uid > 0 && input.image.gid === undefined ? { user: `${uid}:${gid}` } : {}),
  };
}
