import { randomBytes } from 'node:crypto';
import { compileExclude, SYNC_DIR } from './sync-exclude.js';
import { runHelper, type SyncTarget } from './sync-helper.js';
import { SHIP_SCRIPT } from './sync-scripts.js';
import type { SyncState } from './sync-state.js';
import { tarStream, type TarEntry } from './tar-write.js';
import { sameContent, scanTree, type Manifest } from './tree-manifest.js';
import { parseListing } from './listing.js';

/**
 * The trip in: the project's changes since the last sync (all of it the first time) go to the
 * project volume on the engine as one tar stream, deletions included; the engine answers with
 * its listing, which becomes the base of the next return trip. Nothing changed since the last
 * trip (and no session touched the copy): no call to the engine at all.
 */

/** What a shipment did. */
export interface ShipResult {
  state: SyncState;
  /** Entries sent (files, symlinks, directories). */
  sent: number;
  /** Bytes of file content sent. */
  bytes: number;
  deleted: number;
  /** Paths that cannot travel (see tree-manifest.ts travels). */
  skipped: string[];
  /** True when nothing had to be sent. */
  unchanged: boolean;
}

/** Inputs of {@link shipProject}. */
export interface ShipInput {
  target: SyncTarget;
  projectDir: string;
  exclude: readonly string[];
  /** The record of the last sync (undefined: first shipment, the volume is reset). */
  previous: SyncState | undefined;
}

/** The entries of `current` that differ from `base` (parents before children). */
function changedEntries(current: Manifest, base: Manifest): string[] {
  return Object.keys(current)
    .filter((p) => {
      const b = base[p];
      const c = current[p];
      if (!b || !c) return true;
      return !sameContent(b, c) || (c.type !== 'symlink' && b.mode !== c.mode);
    })
    .sort();
}

/** Ships the project's changes to the engine; returns the new record. */
export async function shipProject(input: ShipInput): Promise<ShipResult> {
  const { target, projectDir, previous } = input;
  const exclude = compileExclude(input.exclude);
  const skipped: string[] = [];
  // A first shipment sends every file: each is hashed as it is archived, not read twice.
  const current = await scanTree(projectDir, exclude, previous?.local ?? {}, skipped, previous !== undefined);
  const base = previous?.local ?? {};
  const changed = changedEntries(current, base);
  const deleted = Object.keys(base).filter((p) => !(p in current));
  if (previous && changed.length === 0 && deleted.length === 0) {
    return { state: { ...previous, local: current }, sent: 0, bytes: 0, deleted: 0, skipped, unchanged: true };
  }
  const token = randomBytes(12).toString('hex');
  const now = Math.floor(Date.now() / 1000);
  const bookkeeping: TarEntry[] = [
    { path: SYNC_DIR, type: 'dir', mode: 0o700, mtime: now },
    // Deepest first: a removed directory's entries go before it.
    {
      path: `${SYNC_DIR}/delete`,
      type: 'file',
      mode: 0o600,
      mtime: now,
      content: Buffer.from(
        deleted
          .sort()
          .reverse()
          .map((p) => `${p}\n`)
          .join(''),
      ),
    },
  ];
  let bytes = 0;
  const entries: TarEntry[] = changed.map((path) => {
    const e = current[path]!;
    if (e.type === 'file') bytes += e.size;
    return {
      path,
      type: e.type,
      mode: e.mode,
      mtime: Math.floor(e.mtimeMs / 1000),
      size: e.size,
      ...(e.type === 'symlink' ? { target: e.hash } : {}),
      ...(e.type === 'file'
        ? {
            onHash: (hash: string) => {
              e.hash = hash;
            },
          }
        : {}),
    };
  });
  let listing = '';
  await runHelper(target, 'Shipping the project', SHIP_SCRIPT, [token, previous ? '0' : '1', ...input.exclude], {
    input: tarStream(projectDir, [...bookkeeping, ...entries]),
    onStdout: (chunk) => {
      listing += chunk.toString('utf8');
    },
  });
  const parsed = parseListing(listing);
  const state: SyncState = {
    version: 1,
    engine: target.engine,
    projectDir,
    volume: target.volume,
    token,
    local: current,
    remote: parsed.lines,
    pendingReturn: false,
  };
  return { state, sent: entries.length, bytes, deleted: deleted.length, skipped, unchanged: false };
}
