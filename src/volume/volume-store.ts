import { join } from 'node:path';
import { JsonRecordDir } from '../common/json-record-dir.js';
import {
  markedUsed,
  newVolumeMetadata,
  parseVolumeMetadata,
  serializeVolumeMetadata,
  type VolumeMetadata,
} from './volume-metadata.js';
import { validateVolumeSlug } from './volume-slug.js';

/** Result of {@link VolumeStore.list}: metadata sorted by slug, one warning per unreadable file. */
export interface VolumeMetadataList {
  volumes: VolumeMetadata[];
  warnings: string[];
}

/**
 * Named-volume metadata files `<stateDir>/volumes/<slug>.json` (directory 0700, files 0600),
 * beside the session files: it is bookkeeping about volumes, not their data (which podman keeps).
 * Every write is atomic (temp file + fsync + rename); read-modify-write updates (`markUsed`)
 * happen under a per-slug lock file, so two concurrent `mino run`s both count their mount.
 */
export class VolumeStore {
  /** The metadata directory. */
  readonly dir: string;
  private readonly records: JsonRecordDir;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'volumes');
    this.records = new JsonRecordDir(this.dir, 'volume');
  }

  /** Path of a slug's file (the slug is validated first). */
  pathOf(slug: string): string {
    return this.records.pathOf(validateVolumeSlug(slug));
  }

  private write(m: VolumeMetadata): void {
    this.records.write(validateVolumeSlug(m.slug), serializeVolumeMetadata(m));
  }

  /** The metadata of a slug, or undefined when there is no file. Throws on an unreadable file. */
  get(slug: string): VolumeMetadata | undefined {
    const text = this.records.read(validateVolumeSlug(slug));
    return text === undefined ? undefined : parseVolumeMetadata(text);
  }

  /** Writes (creates or replaces) a slug's metadata. */
  put(m: VolumeMetadata): void {
    this.write(m);
  }

  /**
   * Records one more mount of `slug` at `now` under the slug's lock. A missing file (a volume
   * created by another state directory or by hand) is started with `createdAt` (default now).
   */
  markUsed(slug: string, now: Date = new Date(), createdAt?: string): VolumeMetadata {
    return this.records.locked(validateVolumeSlug(slug), () => {
      let current: VolumeMetadata | undefined;
      try {
        current = this.get(slug);
      } catch {
        current = undefined; // a corrupt file is replaced rather than blocking the run
      }
      const base = current ?? { ...newVolumeMetadata(slug, 0, now), ...(createdAt ? { created_at: createdAt } : {}) };
      const next = markedUsed(base, now);
      this.write(next);
      return next;
    });
  }

  /** Deletes a slug's metadata; a missing file is fine. */
  remove(slug: string): void {
    this.records.remove(validateVolumeSlug(slug));
  }

  /** Every readable metadata file, sorted by slug; unreadable ones become warnings. */
  list(): VolumeMetadataList {
    const { records, warnings } = this.records.list((text, name) => {
      const m = parseVolumeMetadata(text);
      if (`${m.slug}.json` !== name) throw new Error(`slug '${m.slug}' does not match the file name`);
      return m;
    }, 'volume metadata');
    return { volumes: records, warnings };
  }
}
