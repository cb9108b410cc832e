import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock } from './file-lock.js';
import { writeFileAtomic } from './atomic-write.js';
import { errorMessage } from './errors.js';
import { errnoCode } from './errno.js';

/**
 * A directory of small private JSON records, one file `<key>.json` per record (directory 0700,
 * files 0600): atomic writes, read-modify-write under a per-key lock file `.<key>.lock`, and a
 * listing that turns unreadable files into warnings instead of failing. Keys are validated by
 * the caller (they become file names).
 */
export class JsonRecordDir {
  constructor(
    /** The directory. */
    readonly dir: string,
    /** What a record is, for lock messages (`cache`, `volume`). */
    private readonly what: string,
  ) {}

  /** Path of the record `key`. */
  pathOf(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** The record's text, or undefined when there is no file (other read errors throw). */
  read(key: string): string | undefined {
    try {
      return readFileSync(this.pathOf(key), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Creates or replaces the record atomically; `durable` false: without the disk flushes (a crash
   * of the machine may lose it; see AtomicWriteOptions).
   */
  write(key: string, text: string, durable = true): void {
    this.ensureDir();
    writeFileAtomic(this.pathOf(key), text, { mode: 0o600, durable });
  }

  /** Deletes the record; a missing file is fine. */
  remove(key: string): void {
    try {
      unlinkSync(this.pathOf(key));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  /** Runs `fn` holding the lock of `key`. */
  locked<T>(key: string, fn: () => T): T {
    this.ensureDir();
    return withFileLock(join(this.dir, `.${key}.lock`), fn, { what: `${this.what} '${key}'` });
  }

  /**
   * Every record sorted by file name, parsed by `parse(text, fileName)` (which throws for a bad
   * record); `label` names the kind of file in the warning of an unreadable one.
   */
  list<T>(parse: (text: string, fileName: string) => T, label: string): { records: T[]; warnings: string[] } {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { records: [], warnings: [] };
      throw err;
    }
    const records: T[] = [];
    const warnings: string[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const path = join(this.dir, name);
      try {
        records.push(parse(readFileSync(path, 'utf8'), name));
      } catch (err) {
        warnings.push(`Skipping ${label} ${path}: ${errorMessage(err)}`);
      }
    }
    return { records, warnings };
  }

  private ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    } catch {
      // Not ours to change.
    }
  }
}
