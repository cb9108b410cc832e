import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { isExcluded, type SyncExclude } from './sync-exclude.js';

/**
 * What a project tree holds, entry by entry: type, mode, size, mtime and a content hash (a
 * file's sha256, a symlink's target). Symlinks are recorded, never followed; sockets, fifos and
 * devices are skipped. Hashes of files whose size, mtime, mode and inode did not change since the
 * previous manifest are reused (as git's index does), so a second look at a big tree is cheap.
 */

/** One entry of a manifest. */
export interface ManifestEntry {
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits. */
  mode: number;
  size: number;
  /** Modification time in milliseconds. */
  mtimeMs: number;
  ino: number;
  /** sha256 of a file's content; a symlink's target; '' for a directory. */
  hash: string;
}

/** Relative path → entry. */
export type Manifest = Record<string, ManifestEntry>;

function typeOf(st: Stats): ManifestEntry['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return undefined;
}

/** sha256 of a file's content (hex). */
async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The entry of one path as it is now (lstat), or undefined when it is absent or not a file, directory or symlink. */
export async function entryOf(
  root: string,
  path: string,
  previous?: ManifestEntry,
  hash = true,
): Promise<ManifestEntry | undefined> {
  let st: Stats;
  try {
    st = lstatSync(join(root, path));
  } catch {
    return undefined;
  }
  const type = typeOf(st);
  if (!type) return undefined;
  const base = { type, mode: st.mode & 0o7777, size: st.size, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino };
  if (type === 'dir') return { ...base, size: 0, hash: '' };
  if (type === 'symlink') return { ...base, hash: readlinkSync(join(root, path)) };
  if (previous && sameStat(previous, base)) return { ...base, hash: previous.hash };
  if (!hash) return { ...base, hash: '' };
  if (st.size <= 1 << 20)
    return {
      ...base,
      hash: createHash('sha256')
        .update(readFileSync(join(root, path)))
        .digest('hex'),
    };
  return { ...base, hash: await hashFile(join(root, path)) };
}

function sameStat(a: Omit<ManifestEntry, 'hash'>, b: Omit<ManifestEntry, 'hash'>): boolean {
  return a.type === b.type && a.size === b.size && a.mtimeMs === b.mtimeMs && a.mode === b.mode && a.ino === b.ino;
}

/** True when two entries hold the same thing (type, mode and content; times aside). */
export function sameContent(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (!a || !b) return a === b;
  return a.type === b.type && a.hash === b.hash && (a.type === 'symlink' || a.mode === b.mode);
}

/** Paths that cannot travel (a newline breaks the engine's listing): skipped, and reported. */
function travels(path: string): boolean {
  return !/[\n\r\\]/.test(path);
}

/**
 * The manifest of the tree at `root` (excluded paths left out, their subtrees not entered).
 * `skipped` collects paths that cannot travel. Without `hash`, a file not in `previous` gets an
 * empty hash (the caller hashes it while it reads it anyway: a first shipment).
 */
export async function scanTree(
  root: string,
  exclude: SyncExclude,
  previous: Manifest = {},
  skipped: string[] = [],
  hash = true,
): Promise<Manifest> {
  const out: Manifest = {};
  const walk = async (dir: string): Promise<void> => {
    const names = readdirSync(join(root, dir)).sort();
    for (const name of names) {
      const path = dir === '' ? name : `${dir}/${name}`;
      if (isExcluded(exclude, path)) continue;
      if (!travels(path)) {
        skipped.push(path);
        continue;
      }
      const entry = await entryOf(root, path, previous[path], hash);
      if (!entry) continue;
      out[path] = entry;
      if (entry.type === 'dir') await walk(path);
    }
  };
  await walk('');
  return out;
}
