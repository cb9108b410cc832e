import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-write.js';

/**
 * `copy.json` of a working copy: what mino knows of it, written by mino only (the agent never
 * sees the folder that holds it).
 */

/** The record of one working copy. */
export interface CopyMeta {
  /** Branch NAME (the branch is mino/NAME). */
  name: string;
  /** The host repository's top folder. */
  repo: string;
  /** Its git directory (absolute). */
  commonDir: string;
  /** The working copy folder. */
  copy: string;
  /** The commit the branch started from (the base of `mino diff` and AHEAD). */
  base: string;
  /** The session that last used it. */
  session: string;
  /** RFC 3339 creation time. */
  createdAt: string;
}

/** Writes `meta` to `path`. */
export function writeCopyMeta(path: string, meta: CopyMeta): void {
  writeFileAtomic(path, `${JSON.stringify(meta, null, 2)}\n`);
}

/** Reads the record at `path`; undefined when missing or not one of ours. */
export function readCopyMeta(path: string): CopyMeta | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<CopyMeta>;
    const keys = ['name', 'repo', 'commonDir', 'copy', 'base', 'session', 'createdAt'] as const;
    if (keys.some((k) => typeof o[k] !== 'string')) return undefined;
    return o as CopyMeta;
  } catch {
    return undefined;
  }
}
