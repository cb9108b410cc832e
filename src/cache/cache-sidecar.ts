import { isEcosystem, type Ecosystem } from './lockfiles.js';
import { parseCacheVolumeName } from './cache-volume.js';

/**
 * The state of one dependency cache, kept beside the session files because podman labels cannot
 * change: `miss` (no sidecar) → `building` (volume created; a session is filling it) →
 * `complete` (a session using it exited 0). Complete caches are mounted read-write unless
 * `--cache-ro`; only complete ones count for eviction and sharing decisions.
 * Same fields as mino 1.6's sidecar, plus `last_used` for least-recently-used eviction.
 */

/** Persisted states (a miss has no sidecar). */
type CacheState = 'building' | 'complete';

/** One sidecar file `<stateDir>/cache/<canonical volume name>.json`. */
export interface CacheSidecar {
  /** The volume in use for this key (the canonical name, or a `--cache-fresh` one). */
  volume_name: string;
  ecosystem: Ecosystem;
  hash: string;
  state: CacheState;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339, last state change. */
  updated_at: string;
  /** RFC 3339, last time a run mounted it (mino 1.6 files lack it: `updated_at` stands in). */
  last_used: string;
}

/** A new `building` sidecar for a volume just created. */
export function newSidecar(volume: string, now: Date): CacheSidecar {
  const parsed = parseCacheVolumeName(volume);
  if (!parsed) throw new Error(`not a cache volume name: ${volume}`);
  const t = now.toISOString();
  return {
    volume_name: volume,
    ecosystem: parsed.ecosystem,
    hash: parsed.hash,
    state: 'building',
    created_at: t,
    updated_at: t,
    last_used: t,
  };
}

/** The sidecar after a run mounted it at `now`. */
export function markedUsed(s: CacheSidecar, now: Date): CacheSidecar {
  return { ...s, last_used: now.toISOString() };
}

/**
 * The sidecar after a session that mounted `volume` exited with `exitCode`: complete when the
 * command succeeded on the volume the sidecar still names, unchanged otherwise (a failed
 * install leaves the cache `building`, so the next run may write to it again).
 */
export function finalized(s: CacheSidecar, volume: string, exitCode: number | null, now: Date): CacheSidecar {
  if (exitCode !== 0 || s.state !== 'building' || s.volume_name !== volume) return s;
  return { ...s, state: 'complete', updated_at: now.toISOString() };
}

function str(raw: Record<string, unknown>, key: string): string {
  const v = raw[key];
  if (typeof v !== 'string' || v.length === 0) throw new Error(`field ${key} is missing or not a string`);
  return v;
}

function time(raw: Record<string, unknown>, key: string): string {
  const v = str(raw, key);
  if (Number.isNaN(Date.parse(v))) throw new Error(`field ${key} is not a time`);
  return v;
}

/** Parses a sidecar (ours or mino 1.6's); throws an Error naming the bad field. */
export function parseSidecar(text: string): CacheSidecar {
  const raw = JSON.parse(text) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
  const r = raw as Record<string, unknown>;
  const volume = str(r, 'volume_name');
  const parsed = parseCacheVolumeName(volume);
  if (!parsed) throw new Error(`volume_name '${volume}' is not a cache volume`);
  const ecosystem = str(r, 'ecosystem');
  if (!isEcosystem(ecosystem) || ecosystem !== parsed.ecosystem)
    throw new Error(`ecosystem '${ecosystem}' does not match the volume`);
  const hash = str(r, 'hash');
  if (hash !== parsed.hash) throw new Error(`hash '${hash}' does not match the volume`);
  const state = str(r, 'state');
  if (state !== 'building' && state !== 'complete') throw new Error(`unknown state '${state}'`);
  const updated = time(r, 'updated_at');
  return {
    volume_name: volume,
    ecosystem,
    hash,
    state,
    created_at: time(r, 'created_at'),
    updated_at: updated,
    last_used: typeof r.last_used === 'string' && !Number.isNaN(Date.parse(r.last_used)) ? r.last_used : updated,
  };
}

/** The file content of a sidecar. */
export function serializeSidecar(s: CacheSidecar): string {
  return `${JSON.stringify(s, null, 2)}\n`;
}
