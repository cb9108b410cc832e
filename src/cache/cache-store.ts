import { join } from 'node:path';
import { JsonRecordDir } from '../common/json-record-dir.js';
import { parseCacheVolumeName } from './cache-volume.js';
import {
  finalized,
  markedUsed,
  newSidecar,
  parseSidecar,
  serializeSidecar,
  type CacheSidecar,
} from './cache-sidecar.js';

/** Result of {@link CacheStore.list}: sidecars sorted by file name, one warning per unreadable file. */
export interface SidecarList {
  sidecars: CacheSidecar[];
  warnings: string[];
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
  private readonly records: JsonRecordDir;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'cache');
    this.records = new JsonRecordDir(this.dir, 'cache');
  }

  private key(base: string): string {
    const parsed = parseCacheVolumeName(base);
    if (!parsed || parsed.base !== base) throw new Error(`not a canonical cache volume name: ${base}`);
    return base;
  }

  private write(s: CacheSidecar): void {
    this.records.write(this.key(parseCacheVolumeName(s.volume_name)!.base), serializeSidecar(s));
  }

  private locked<T>(base: string, fn: () => T): T {
    return this.records.locked(this.key(base), fn);
  }

  /** The sidecar of a canonical name; undefined when missing or unreadable (then treated as a miss). */
  get(base: string): CacheSidecar | undefined {
    const key = this.key(base);
    try {
      const text = this.records.read(key);
      return text === undefined ? undefined : parseSidecar(text);
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
      this.records.remove(base);
    });
  }

  /** Every sidecar, sorted by file name; unreadable ones become warnings. */
  list(): SidecarList {
    const { records, warnings } = this.records.list((text, name) => {
      const s = parseSidecar(text);
      if (`${parseCacheVolumeName(s.volume_name)!.base}.json` !== name)
        throw new Error('volume_name does not match the file name');
      return s;
    }, 'cache record');
    return { sidecars: records, warnings };
  }
}
