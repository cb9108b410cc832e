import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A chore done at most once per interval across mino processes, remembered by the mtime of a stamp
 * file: true (and the stamp renewed) when the stamp is older than `intervalMs` or missing; false
 * otherwise, and when the stamp cannot be written (a read-only state directory skips the chore).
 * The stamp's mtime is set to `now`, so one clock decides (the caller's), never the time the write
 * happened to take place.
 */
export function stampDue(stamp: string, intervalMs: number, now = Date.now()): boolean {
  try {
    if (now - statSync(stamp).mtimeMs < intervalMs) return false;
  } catch {
    // never done
  }
  try {
    mkdirSync(dirname(stamp), { recursive: true, mode: 0o700 });
    writeFileSync(stamp, '');
    utimesSync(stamp, now / 1000, now / 1000);
    return true;
  } catch {
    return false;
  }
}
