import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MinoError } from '../common/errors.js';
import { conflictName, ownerFor, placeEntry, removeEntry, safeParents, type Incoming } from './apply-entry.js';
import { expectedInput, parseListing } from './listing.js';
import { compileExclude, isExcluded, SYNC_DIR } from './sync-exclude.js';
import { runHelper, type SyncTarget } from './sync-helper.js';
import { BACK_SCRIPT } from './sync-scripts.js';
import type { SyncState } from './sync-state.js';
import { TarReader, type TarHeader } from './tar-read.js';
import { entryOf, sameContent, type ManifestEntry } from './tree-manifest.js';

/**
 * The return trip: the engine lists its copy, compares with the listing of the last sync and
 * sends every file and symlink that differs (one tar stream); here each change is applied when
 * the local entry is still what it was at the last sync, and otherwise kept beside it as
 * `<path>.mino-remote` and reported: a file changed on both sides is never overwritten. Changes
 * to protected paths (git hooks and config, editor and agent settings) are never brought back.
 */

/** What a return trip did. */
export interface BackResult {
  state: SyncState;
  /** Paths written or removed here. */
  applied: string[];
  /** Paths changed on both sides: the engine's version is at `kept`. */
  conflicts: { path: string; kept?: string; why: string }[];
  /** Protected paths the engine changed: left there. */
  refused: string[];
}

/** Inputs of {@link bringBack}. */
export interface BackInput {
  target: SyncTarget;
  projectDir: string;
  exclude: readonly string[];
  state: SyncState;
  /** Where incoming files are staged (a directory of mino's, on the project's file system if possible). */
  stagingDir: string;
  /** True for a relative path that must never be changed from the engine (protected). */
  isProtected: (path: string) => boolean;
}

interface Received {
  header: TarHeader;
  staged?: string;
  hash: string;
}

/** A return trip whose helper already runs on the engine, waiting for the last listing. */
export interface PendingBack {
  /** Sends the listing of `state`, receives the changes and applies them (once). */
  finish(state: SyncState): Promise<BackResult>;
  /** Lets the helper go without a listing: it exits at once and nothing travels. Idempotent. */
  cancel(): Promise<void>;
}

/**
 * Starts the return trip's helper now and lets it wait, before it lists anything, for the listing
 * mino sends once the session is over: its start (a container on the engine) overlaps the
 * session instead of following it. {@link PendingBack.finish} or `cancel` must be called.
 */
export function startBringBack(input: Omit<BackInput, 'state'>): PendingBack {
  const { target } = input;
  const staging = join(input.stagingDir, randomBytes(6).toString('hex'));
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const received = new Map<string, Received>();
  let listingText = '';
  let current: { header: TarHeader; fd?: number; staged?: string; hash: Hash } | undefined;
  let n = 0;
  const reader = new TarReader({
    entry: (header) => {
      const hash = createHash('sha256');
      if (header.type === 'file' && header.path !== `${SYNC_DIR}/list`) {
        const staged = join(staging, String(n++));
        current = { header, staged, fd: openSync(staged, 'wx', 0o600), hash };
      } else current = { header, hash };
    },
    data: (chunk) => {
      if (!current) return;
      if (current.header.path === `${SYNC_DIR}/list`) listingText += chunk.toString('utf8');
      else if (current.fd !== undefined) {
        writeSync(current.fd, chunk);
        current.hash.update(chunk);
      }
    },
    end: () => {
      if (!current) return;
      if (current.fd !== undefined) closeSync(current.fd);
      const { header } = current;
      if (header.path !== `${SYNC_DIR}/list`) {
        received.set(header.path, {
          header,
          ...(current.staged ? { staged: current.staged } : {}),
          hash: header.type === 'symlink' ? header.target : current.hash.digest('hex'),
        });
      }
      current = undefined;
    },
  });
  let send: (text: string | undefined) => void = () => undefined;
  const expected = new Promise<string | undefined>((resolve) => {
    send = resolve;
  });
  const helper = runHelper(target, 'Bringing the changes back', BACK_SCRIPT, [...input.exclude], {
    input: (async function* () {
      // Nothing sent (cancel): stdin closes empty and the helper exits before listing.
      const text = await expected;
      if (text !== undefined) yield Buffer.from(text);
    })(),
    onStdout: (chunk) => reader.push(chunk),
  });
  helper.catch(() => undefined); // awaited by finish (which reports it) or cancel
  let settled = false;
  const cleanup = (): void => rmSync(staging, { recursive: true, force: true });
  return {
    async finish(state) {
      if (settled) throw new Error('this return trip is over');
      settled = true;
      send(expectedInput(state.remote));
      try {
        await helper;
        reader.finish();
        if (listingText === '') {
          // Not even the listing arrived (a script that ran always sends it: its token line at least).
          throw new MinoError(
            `The engine's answer did not arrive (its output was lost on the way); nothing was brought back from engine ${target.engine}`,
            { hint: 'The changes stay on the engine: the next mino sync (or run) of the session brings them back' },
          );
        }
        const listing = parseListing(listingText);
        if (listing.token !== state.token) {
          throw new MinoError(
            `The project's copy on engine ${target.engine} is not the one mino shipped (volume ${target.volume}); nothing was brought back`,
            {
              hint: 'It was removed or replaced. The next run ships the project again (mino keeps your local files as they are)',
            },
          );
        }
        const missing = notArrived(state.remote, listing, received);
        if (missing.length > 0) {
          // The archive ended between two entries: the end of the exec's output was lost on its way.
          throw new MinoError(
            `The engine's answer ended early: ${missing.length} changed file(s) did not arrive (${missing.slice(0, 3).join(', ')}); nothing was brought back`,
            { hint: 'The changes stay on the engine: the next mino sync (or run) of the session brings them back' },
          );
        }
        return await apply({ ...input, state }, listing.lines, listing.kinds, received, compileExclude(input.exclude));
      } finally {
        cleanup();
      }
    },
    async cancel() {
      if (settled) return;
      settled = true;
      send(undefined);
      await helper.catch(() => undefined);
      cleanup();
    },
  };
}

/**
 * Files and symlinks the engine listed as changed since `known` (the last listing) whose content
 * did not come with the listing: the helper sends every one of them, so any missing means the
 * stream was cut (podman's remote exec can lose the end of an output).
 */
function notArrived(
  known: Readonly<Record<string, string>>,
  listing: { lines: Record<string, string>; kinds: Record<string, string> },
  received: ReadonlyMap<string, Received>,
): string[] {
  return Object.keys(listing.lines)
    .filter((path) => {
      const kind = listing.kinds[path];
      return (kind === 'file' || kind === 'symlink') && known[path] !== listing.lines[path] && !received.has(path);
    })
    .sort();
}

/** Brings the engine's changes back into the project; returns the new record. */
export function bringBack(input: BackInput): Promise<BackResult> {
  return startBringBack(input).finish(input.state);
}

async function apply(
  input: BackInput,
  lines: Record<string, string>,
  kinds: Record<string, string>,
  received: Map<string, Received>,
  exclude: ReturnType<typeof compileExclude>,
): Promise<BackResult> {
  const { projectDir, state } = input;
  const local = { ...state.local };
  const remote: Record<string, string> = {};
  const applied: string[] = [];
  const conflicts: BackResult['conflicts'] = [];
  const refused: string[] = [];
  const owner = ownerFor(projectDir);
  const now = async (path: string): Promise<ManifestEntry | undefined> => entryOf(projectDir, path, state.local[path]);

  for (const path of Object.keys(lines).sort()) {
    if (isExcluded(exclude, path)) continue;
    const line = lines[path]!;
    remote[path] = line;
    if (state.remote[path] === line) continue;
    const kind = kinds[path];
    if (kind === 'dir') {
      if (input.isProtected(path)) continue;
      if (!local[path] && safeParents(projectDir, `${path}/x`, owner)) {
        const e = await now(path);
        if (e) local[path] = e;
      }
      continue;
    }
    const got = received.get(path);
    if (!got || (kind !== 'file' && kind !== 'symlink')) continue;
    const mine = await now(path);
    const theirs: ManifestEntry = {
      type: got.header.type === 'symlink' ? 'symlink' : 'file',
      mode: got.header.mode,
      size: got.header.size,
      mtimeMs: got.header.mtime * 1000,
      ino: 0,
      hash: got.hash,
    };
    if (sameContent(mine, theirs)) {
      if (mine) local[path] = mine;
      continue;
    }
    if (input.isProtected(path)) {
      refused.push(path); // the base stays: the next shipment restores the local version there
      continue;
    }
    const incoming: Incoming =
      theirs.type === 'symlink'
        ? { type: 'symlink', target: got.hash }
        : { type: 'file', staged: got.staged!, mode: got.header.mode, mtime: got.header.mtime };
    const base = state.local[path];
    const untouched = mine === undefined ? base === undefined : sameContent(mine, base) && mine.mode === base?.mode;
    if (untouched && mine?.type !== 'dir' && safeParents(projectDir, path, owner)) {
      placeEntry(projectDir, path, incoming, owner);
      applied.push(path);
      const e = await now(path);
      if (e) local[path] = e;
      continue;
    }
    // Both sides changed it (or the way there is not a plain directory): keep both.
    const kept = conflictName(projectDir, path);
    if (safeParents(projectDir, kept, owner)) {
      placeEntry(projectDir, kept, incoming, owner);
      conflicts.push({ path, kept, why: 'changed here and on the engine' });
    } else conflicts.push({ path, why: 'changed on the engine, but the way to it here is not a plain directory' });
    // The base stays: the next shipment sends the local version back to the engine.
  }

  // Deleted on the engine: removed here when unchanged here (deepest first).
  const gone = Object.keys(state.remote)
    .filter((p) => !(p in lines) && !isExcluded(exclude, p))
    .sort()
    .reverse();
  for (const path of gone) {
    const base = state.local[path];
    const mine = await now(path);
    if (!mine) {
      delete local[path];
      continue;
    }
    if (input.isProtected(path)) {
      refused.push(path);
      continue;
    }
    const untouched =
      base !== undefined && (mine.type === 'dir' || (sameContent(mine, base) && mine.mode === base.mode));
    if (untouched && removeEntry(projectDir, path)) {
      applied.push(path);
      delete local[path];
    } else if (mine.type !== 'dir') {
      conflicts.push({ path, why: 'removed on the engine, changed here: kept here' });
    }
  }
  return {
    state: { ...state, local, remote, pendingReturn: false },
    applied,
    conflicts,
    refused,
  };
}
