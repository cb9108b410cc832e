import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { isErrno } from '../common/errno.js';
import { MinoError } from '../common/errors.js';
import type { Manifest } from './tree-manifest.js';

/**
 * What mino knows of one project's copy on one engine since their last sync: the local tree as it
 * was then (the base every change is measured against), the engine's listing lines as they were
 * then, the token that identifies the volume's content, and whether a session may have changed
 * the copy since. Kept in `<stateDir>/sync/<id>.json` (0600).
 */

/** The record of one project on one engine. */
export interface SyncState {
  version: 1;
  engine: string;
  projectDir: string;
  volume: string;
  /** Random id written into the volume at each shipment; a volume without it is not ours. */
  token: string;
  /** The local tree at the last sync. */
  local: Manifest;
  /** The engine's listing line of each path at the last sync (`racy` lines never match). */
  remote: Record<string, string>;
  /** A session ran (or runs) on the copy since the last return trip. */
  pendingReturn: boolean;
  /** The image the sync helper runs (the last session's: it has sh and tar). */
  image?: string;
  /** `sync.exclude` of the last shipment. */
  exclude?: string[];
  /** Protected project paths of the last session (never changed by a return trip). */
  protectedPaths?: string[];
}

/** The podman volume holding `projectDir` on an engine, for the mino state `stateKey`. */
export function projectVolumeName(stateKey: string, projectDir: string): string {
  return `mino-project-${createHash('sha256').update(`${stateKey}\0${projectDir}`).digest('hex').slice(0, 16)}`;
}

/** Path of the record of `volume` on `engine`. */
export function syncStatePath(stateDir: string, engine: string, volume: string): string {
  return join(stateDir, 'sync', `${engine}--${volume}.json`);
}

/** Reads a record (undefined when there is none). */
export function readSyncState(path: string): SyncState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw err;
  }
  try {
    const data = JSON.parse(text) as SyncState;
    if (data.version !== 1 || typeof data.token !== 'string' || typeof data.local !== 'object') throw new Error('bad');
    return data;
  } catch {
    throw new MinoError(`${path} is not a valid sync record`, {
      hint: `Bring the engine's changes back first if you need them, then remove ${path} (the next run ships the whole project again)`,
    });
  }
}

/** Writes a record atomically. */
export function writeSyncState(path: string, state: SyncState): void {
  writeFileAtomic(path, JSON.stringify(state), { mode: 0o600, mkdirMode: 0o700 });
}
