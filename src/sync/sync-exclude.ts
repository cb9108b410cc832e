import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * `sync.exclude`: what stays on the engine (outputs such as `node_modules` or `dist`), neither
 * shipped nor brought back. A pattern without `/` matches an entry of that name anywhere
 * (`node_modules`); one with `/` is a path from the project root (`build/out`). `.mino-sync`
 * (mino's own bookkeeping in the volume) is always excluded.
 */

/** mino's directory in the project volume: the last listing, the deletions of a shipment. */
export const SYNC_DIR = '.mino-sync';

/** A compiled exclusion list. */
export interface SyncExclude {
  names: ReadonlySet<string>;
  paths: readonly string[];
}

/** Checks and compiles `sync.exclude` values. */
export function compileExclude(patterns: readonly string[]): SyncExclude {
  const names = new Set<string>([SYNC_DIR]);
  const paths: string[] = [];
  for (const raw of patterns) {
    const p = raw.replace(/\/+$/, '');
    if (
      p === '' ||
      p.startsWith('/') ||
      p.includes('\0') ||
      p.split('/').some((c) => c === '..' || c === '.' || c === '')
    ) {
      throw new UsageError(
        `Invalid sync.exclude pattern '${printable(raw)}'`,
        'Use a name (node_modules) or a path from the project root (build/out), without . or .. components',
      );
    }
    if (p.includes('/')) paths.push(p);
    else names.add(p);
  }
  return { names, paths };
}

/** True when the relative path `path` (or a directory above it) is excluded. */
export function isExcluded(exclude: SyncExclude, path: string): boolean {
  const parts = path.split('/');
  if (parts.some((part) => exclude.names.has(part))) return true;
  return exclude.paths.some((p) => path === p || path.startsWith(`${p}/`));
}
