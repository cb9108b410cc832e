import { isEcosystem, type Ecosystem } from './lockfiles.js';

/**
 * How a dependency cache appears in podman: a volume `mino-cache-<ecosystem>-<12 hex key>` (a
 * `--cache-fresh` run adds `-<6 hex>` so the old volume can stay while a session still uses it),
 * labelled as mino 1.6 labels it. Labels are immutable, so the state lives in a sidecar file
 * (cache-sidecar.ts); the labels only identify the volume.
 */

/** Prefix of every cache volume's podman name. */
export const CACHE_VOLUME_PREFIX = 'mino-cache-';
/** Label marking a cache volume (`true`). */
const LABEL_CACHE = 'io.mino.cache';
/** Label holding the ecosystem. */
const LABEL_CACHE_ECOSYSTEM = 'io.mino.cache.ecosystem';
/** Label holding the 12-hex lockfile key. */
const LABEL_CACHE_HASH = 'io.mino.cache.hash';
/** Label holding the creation time (RFC 3339). */
export const LABEL_CACHE_CREATED = 'io.mino.cache.created_at';

/** `mino-cache-<ecosystem>-<key>`: the canonical volume of a lockfile key (mino 1.6's name). */
export function cacheVolumeName(ecosystem: Ecosystem, hash: string, generation?: string): string {
  if (!isEcosystem(ecosystem)) throw new Error(`unknown ecosystem ${String(ecosystem)}`);
  if (!/^[0-9a-f]{12}$/.test(hash)) throw new Error(`invalid cache key ${hash}`);
  if (generation !== undefined && !/^[0-9a-f]{6}$/.test(generation))
    throw new Error(`invalid cache generation ${generation}`);
  return `${CACHE_VOLUME_PREFIX}${ecosystem}-${hash}${generation === undefined ? '' : `-${generation}`}`;
}

/** What a cache volume's name says. */
export interface ParsedCacheVolume {
  ecosystem: Ecosystem;
  hash: string;
  /** The canonical name (without a `--cache-fresh` suffix): the sidecar's key. */
  base: string;
}

/** Parses a cache volume name; undefined for anything else. */
export function parseCacheVolumeName(name: string): ParsedCacheVolume | undefined {
  const m = /^mino-cache-([a-z]+)-([0-9a-f]{12})(?:-[0-9a-f]{6})?$/.exec(name);
  if (!m || !isEcosystem(m[1]!)) return undefined;
  return { ecosystem: m[1], hash: m[2]!, base: `${CACHE_VOLUME_PREFIX}${m[1]}-${m[2]}` };
}

/** The labels of a new cache volume; `extra` (e.g. test labels) comes last. */
export function cacheVolumeLabels(
  ecosystem: Ecosystem,
  hash: string,
  createdAt: Date,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    [LABEL_CACHE]: 'true',
    [LABEL_CACHE_ECOSYSTEM]: ecosystem,
    [LABEL_CACHE_HASH]: hash,
    [LABEL_CACHE_CREATED]: createdAt.toISOString(),
    ...extra,
  };
}
