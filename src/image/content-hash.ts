import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Content hash of a directory tree: every regular file, sorted by its `/`-separated relative path,
 * contributes its path and its bytes (each length-prefixed, so no two trees share a stream).
 * File modes and timestamps do not count; neither do empty directories.
 */

/** Relative paths (with `/`) of the regular files under `dir`, sorted by code unit. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Hex SHA-256 over the files of a directory tree (see the module comment). */
export function hashDirectory(dir: string): string {
  const hash = createHash('sha256');
  for (const path of listFiles(dir)) {
    const content = readFileSync(join(dir, path));
    const name = Buffer.from(path, 'utf8');
    hash.update(`${name.length}:`).update(name).update(`${content.length}:`).update(content);
  }
  return hash.digest('hex');
}
