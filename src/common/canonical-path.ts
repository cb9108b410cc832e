import { realpathSync } from 'node:fs';

/** `path` with symbolic links resolved (realpath), or `path` itself when it cannot be resolved. */
export function canonicalPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
