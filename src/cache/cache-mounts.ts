import { cacheTarget } from './cache-env.js';
import type { CacheSidecar } from './cache-sidecar.js';
import { cacheVolumeName } from './cache-volume.js';
import type { DetectedLockfile, Ecosystem } from './lockfiles.js';

/**
 * Which cache volumes a run mounts and how, decided from the detected lockfiles, their sidecars
 * and the cache volumes podman has, with no I/O (the run plan takes the result as data):
 * - no sidecar (miss): the canonical volume, to be created; read-write; completed on exit 0;
 * - `building`: read-write; completed on exit 0;
 * - `complete`: read-write (the tools lock their own caches: npm's cacache writes atomically, cargo
 *   takes a file lock, go and uv lock too, and `npm ci` with a lockfile without `resolved` URLs must
 *   write metadata); read-only with `--cache-ro`, for sessions that must not change a shared cache;
 * - `--cache-fresh`: a new, empty volume `mino-cache-<eco>-<key>-<6 hex>` (read-write, completed on
 *   exit 0); the old one is removed by the run if no container uses it.
 */

/** The three states a run can find a cache in. */
type CacheRunState = 'miss' | 'building' | 'complete';

/** One cache mount of a run. */
export interface CacheMount {
  ecosystem: Ecosystem;
  /** 12-hex lockfile key. */
  hash: string;
  /** The lockfile it is keyed by. */
  lockfile: string;
  /** Podman volume name. */
  volume: string;
  /** `/cache/<ecosystem>`. */
  target: string;
  readOnly: boolean;
  /** State found before the run. */
  state: CacheRunState;
  /** Mark the cache complete when the command exits 0. */
  finalize: boolean;
  /** The volume does not exist yet: the run creates it (with its labels) first. */
  create: boolean;
  /** With `--cache-fresh`: the volume this one replaces (removed when unused). */
  replaces?: string;
}

/** The cache flags of a run. */
export interface CacheOptions {
  /** Off with `--no-cache` or config `cache.enabled = false`. */
  enabled: boolean;
  /** `--cache-fresh`. */
  fresh: boolean;
  /** `--cache-ro`: mount complete caches read-only (default read-write). */
  readOnly: boolean;
}

/**
 * Decides the cache mounts. `sidecarOf` reads a canonical volume's sidecar; `exists` says whether
 * podman has a volume (a sidecar whose volume was removed behind mino's back counts as a miss, so
 * the run never gets an empty read-only cache); `generation` makes the 6-hex suffix of a
 * `--cache-fresh` volume.
 */
export function decideCacheMounts(
  lockfiles: readonly DetectedLockfile[],
  sidecarOf: (canonical: string) => CacheSidecar | undefined,
  exists: (volume: string) => boolean,
  options: CacheOptions,
  generation: () => string,
): CacheMount[] {
  if (!options.enabled) return [];
  return lockfiles.map((l) => {
    const canonical = cacheVolumeName(l.ecosystem, l.hash);
    const found = sidecarOf(canonical);
    const sidecar = found && exists(found.volume_name) ? found : undefined;
    const common = { ecosystem: l.ecosystem, hash: l.hash, lockfile: l.file, target: cacheTarget(l.ecosystem) };
    if (options.fresh) {
      return {
        ...common,
        volume: cacheVolumeName(l.ecosystem, l.hash, generation()),
        readOnly: false,
        state: 'miss' as const,
        finalize: true,
        create: true,
        replaces: sidecar?.volume_name ?? canonical,
      };
    }
    if (!sidecar)
      return {
        ...common,
        volume: canonical,
        readOnly: false,
        state: 'miss' as const,
        finalize: true,
        create: !exists(canonical),
      };
    const complete = sidecar.state === 'complete';
    return {
      ...common,
      volume: sidecar.volume_name,
      readOnly: complete && options.readOnly,
      state: sidecar.state,
      finalize: !complete,
      create: false,
    };
  });
}
