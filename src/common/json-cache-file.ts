import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';

/**
 * A private JSON cache file: something mino worked out and keeps only to save the work next time
 * (a memo, a program's answers). Reading it never fails: a file that is missing, unreadable, not
 * JSON or not of the shape the caller accepts reads as nothing. Writing replaces it whole and
 * atomically (mode 0600, never torn), without waiting for the disk (a crash only brings back the
 * previous content), and a failed write (read-only or full disk, no directory) is ignored: the
 * work is done again next time.
 */

/** The file's content when `accept` takes it (returns it checked, or undefined); else undefined. */
export function readJsonCache<T>(path: string, accept: (value: unknown) => T | undefined): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  return accept(value);
}

/**
 * Replaces the file with `value` as JSON; false when it could not. Its directory is made (with
 * `mkdirMode`) only when that is given: else a missing directory is left missing.
 */
export function writeJsonCache(path: string, value: unknown, mkdirMode?: number): boolean {
  try {
    writeFileAtomic(path, `${JSON.stringify(value)}\n`, {
      mode: 0o600,
      durable: false,
      ...(mkdirMode === undefined ? {} : { mkdirMode }),
    });
    return true;
  } catch {
    return false;
  }
}

/** `value` when it is a plain JSON object (not null, not an array), else undefined. */
export function jsonObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
