import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errorMessage } from '../common/errors.js';
import { withFileLock } from '../session/file-lock.js';
import { parseCacheVolumeName } from './cache-volume.js';
import { finalized, markedUsed, newSidecar, parseSidecar, serializeSidecar, type CacheSidecar } from './cache-sidecar.js';

/** Result of {@link CacheStore.list}: sidecars sorted by file name, one warning per unreadable file. */
export interface SidecarList {
  sidecars: CacheSidecar[];
  warnings: string[];
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The sidecar files `<stateDir>/cache/<mino-cache-eco-hash>.json` (directory 0700, files 0600),
 * where mino 1.6 kept them. Every write is atomic; read-modify-write updates happen under a
 * per-cache lock file, so concurrent runs and reconciles never lose each other's changes. A
 * sidecar also tells `mino run` that mino created the volume, so later runs skip `volume create`.
 */
export class CacheStore {
  /** The sidecar directory. */
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'cache');
  }

  private file(base: string): string {
    const parsed = parseCacheVolumeName(base);
    if (!parsed || parsed.base !== base) throw new Error(`not a canonical cache volume name: ${base}`);
    return join(this.dir, `${base}.json`);
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    } catch {
      // Not ours to change.
    }
  }

  private write(s: CacheSidecar): void {
    this.ensureDir();
    writeFileAtomic(this.file(parseCacheVolumeName(s.volume_name)!.base), serializeSidecar(s), { mode: 0o600 });
  }

  private locked<T>(base: string, fn: () => T): T {
    this.ensureDir();
    return withFileLock(join(this.dir, `.${base}.lock`), fn, { what: `cache '${base}'` });
  }

  /** The sidecar of a canonical name; undefined when missing or unreadable (then treated as a miss). */
  get(base: string): CacheSidecar | undefined {
    const file = this.file(base);
    try {
      return parseSidecar(readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  }

  /**
   * Records a run's use of `volume` at `now`: a `building` sidecar when there is none (or it
   * names another volume: a `--cache-fresh` run replaced it), else the same one with a new
   * `last_used`. Returns the sidecar as written.
   */
  use(volume: string, now: Date): CacheSidecar {
    const base = parseCacheVolumeName(volume)?.base;
    if (base === undefined) throw new Error(`not a cache volume name: ${volume}`);
    return this.locked(base, () => {
      const current = this.get(base);
      const next = current && current.volume_name === volume ? markedUsed(current, now) : newSidecar(volume, now);
      this.write(next);
      return next;
    });
  }

  /** Marks `volume` complete when a session using it exited 0 (see {@link finalized}). */
  finalize(volume: string, exitCode: number | null, now: Date): CacheSidecar | undefined {
    const base = parseCacheVolumeName(volume)?.base;
    if (base === undefined) return undefined;
    return this.locked(base, () => {
      const current = this.get(base);
      if (!current) return undefined;
      const next = finalized(current, volume, exitCode, now);
      if (next !== current) this.write(next);
      return next;
    });
  }

  /** Deletes the sidecar of `volume`'s key when it still names `volume`; a missing file is fine. */
  forget(volume: string): void {
    const base = parseCacheVolumeName(volume)?.base;
    if (base === undefined) return;
    this.locked(base, () => {
      const current = this.get(base);
      if (current && current.volume_name !== volume) return;
      try {
        unlinkSync(this.file(base));
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
      }
    });
  }

  /** Every sidecar, sorted by file name; unreadable ones become warnings. */
  list(): SidecarList {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (code(err) === 'ENOENT') return { sidecars: [], warnings: [] };
      throw err;
    }
    const sidecars: CacheSidecar[] = [];
    const warnings: string[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        const s = parseSidecar(readFileSync(join(this.dir, name), 'utf8'));
        if (`${parseCacheVolumeName(s.volume_name)!.base}.json` !== name) throw new Error('volume_name does not match the file name');
        sidecars.push(s);
      } catch (err) {
        warnings.push(`Skipping cache record ${join(this.dir, name)}: ${errorMessage(err)}`);
      }
    }
    return { sidecars, warnings };
  }
}
