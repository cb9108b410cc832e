import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errorMessage } from '../common/errors.js';
import { withFileLock } from '../session/file-lock.js';
import {
  markedUsed, newVolumeMetadata, parseVolumeMetadata, serializeVolumeMetadata, type VolumeMetadata,
} from './volume-metadata.js';
import { validateVolumeSlug } from './volume-slug.js';

/** Result of {@link VolumeStore.list}: metadata sorted by slug, one warning per unreadable file. */
export interface VolumeMetadataList {
  volumes: VolumeMetadata[];
  warnings: string[];
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
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

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'volumes');
  }

  /** Path of a slug's file (the slug is validated first). */
  pathOf(slug: string): string {
    return join(this.dir, `${validateVolumeSlug(slug)}.json`);
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    } catch {
      // Not ours to change.
    }
  }

  private write(m: VolumeMetadata): void {
    this.ensureDir();
    writeFileAtomic(this.pathOf(m.slug), serializeVolumeMetadata(m), { mode: 0o600 });
  }

  /** The metadata of a slug, or undefined when there is no file. Throws on an unreadable file. */
  get(slug: string): VolumeMetadata | undefined {
    let text: string;
    try {
      text = readFileSync(this.pathOf(slug), 'utf8');
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
    return parseVolumeMetadata(text);
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
    this.ensureDir();
    return withFileLock(join(this.dir, `.${validateVolumeSlug(slug)}.lock`), () => {
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
    }, { what: `volume '${slug}'` });
  }

  /** Deletes a slug's metadata; a missing file is fine. */
  remove(slug: string): void {
    try {
      unlinkSync(this.pathOf(slug));
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
  }

  /** Every readable metadata file, sorted by slug; unreadable ones become warnings. */
  list(): VolumeMetadataList {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (code(err) === 'ENOENT') return { volumes: [], warnings: [] };
      throw err;
    }
    const volumes: VolumeMetadata[] = [];
    const warnings: string[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(this.dir, name);
      try {
        const m = parseVolumeMetadata(readFileSync(path, 'utf8'));
        if (`${m.slug}.json` !== name) throw new Error(`slug '${m.slug}' does not match the file name`);
        volumes.push(m);
      } catch (err) {
        warnings.push(`Skipping volume metadata ${path}: ${errorMessage(err)}`);
      }
    }
    return { volumes, warnings };
  }
}
