import { isVolumeSlug } from './volume-slug.js';

/**
 * The metadata of one named volume, as JSON (snake_case): `slug`, `size_bytes` (0 = no limit), `created_at`, `last_used` (null until first
 * mounted), `mount_count`. Podman volume labels cannot change, so everything that changes over
 * time lives here.
 */

/** One named volume's metadata, field names as in the JSON file. */
export interface VolumeMetadata {
  slug: string;
  /** Size limit in bytes; 0 means none. Podman does not enforce it: mino warns. */
  size_bytes: number;
  /** RFC 3339 creation time. */
  created_at: string;
  /** RFC 3339 time of the last `mino run` that mounted it, or null. */
  last_used: string | null;
  /** How many `mino run`s mounted it. */
  mount_count: number;
}

/** A metadata file whose content is not valid. */
export class InvalidVolumeMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidVolumeMetadataError';
  }
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Checks parsed JSON and returns the metadata. Like serde with `#[serde(default)]`, missing
 * `size_bytes`, `last_used` and `mount_count` read as 0, null and 0; `slug` and `created_at`
 * are required. Throws {@link InvalidVolumeMetadataError} naming the bad field.
 */
function volumeMetadataFromJson(raw: unknown): VolumeMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidVolumeMetadataError('not a JSON object');
  const o = raw as Record<string, unknown>;
  const fail = (field: string, what: string): never => {
    throw new InvalidVolumeMetadataError(`field '${field}' ${what}`);
  };
  if (typeof o.slug !== 'string' || !isVolumeSlug(o.slug)) fail('slug', 'must be a valid volume name');
  if (!isTime(o.created_at)) fail('created_at', 'must be an RFC 3339 time');
  const size = o.size_bytes ?? 0;
  if (!isCount(size)) fail('size_bytes', 'must be a whole number of bytes');
  const lastUsed = o.last_used ?? null;
  if (lastUsed !== null && !isTime(lastUsed)) fail('last_used', 'must be an RFC 3339 time or null');
  const count = o.mount_count ?? 0;
  if (!isCount(count)) fail('mount_count', 'must be a whole number');
  return {
    slug: o.slug as string,
    size_bytes: size as number,
    created_at: o.created_at as string,
    last_used: lastUsed as string | null,
    mount_count: count as number,
  };
}

/** Parses a metadata file's text (JSON). */
export function parseVolumeMetadata(text: string): VolumeMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidVolumeMetadataError(`not valid JSON (${(err as Error).message})`);
  }
  return volumeMetadataFromJson(raw);
}

/** Pretty JSON (two-space indent) with a trailing newline, fields in a fixed order. */
export function serializeVolumeMetadata(m: VolumeMetadata): string {
  const ordered: VolumeMetadata = {
    slug: m.slug,
    size_bytes: m.size_bytes,
    created_at: m.created_at,
    last_used: m.last_used,
    mount_count: m.mount_count,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** New metadata: never used, created `now`. */
export function newVolumeMetadata(slug: string, sizeBytes: number, now: Date = new Date()): VolumeMetadata {
  return { slug, size_bytes: sizeBytes, created_at: now.toISOString(), last_used: null, mount_count: 0 };
}

/** The metadata after one more mount at `now`. */
export function markedUsed(m: VolumeMetadata, now: Date = new Date()): VolumeMetadata {
  return { ...m, last_used: now.toISOString(), mount_count: m.mount_count + 1 };
}
