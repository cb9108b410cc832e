import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withFileLockAsync } from '../common/file-lock.js';
import { bringBack, startBringBack, type BackInput, type BackResult } from './bring-back.js';
import { shipProject, type ShipResult } from './ship-project.js';
import type { SyncTarget } from './sync-helper.js';
import { readSyncState, syncStatePath, writeSyncState, type SyncState } from './sync-state.js';

/**
 * One project's copy on one engine, as the run and `mino sync` use it: each trip holds a lock of
 * that copy (two mino processes never sync it at once) and updates its record
 * (sync-state.ts). The trip in first brings back what a session left unreturned, so shipping
 * never overwrites the engine's changes unseen.
 */

/** Where a project's copy lives and what travels. */
export interface ProjectCopy {
  target: SyncTarget;
  projectDir: string;
  /** `sync.exclude`. */
  exclude: readonly string[];
  /** mino's state directory (records, staging). */
  stateDir: string;
  /** Project-relative paths never changed by a return trip. */
  protectedPaths: readonly string[];
  /**
   * Trips keep a helper running on the engine for this copy (persistent-helper.ts) when no warm
   * helper serves them; else each trip starts a container of its own.
   */
  keepHelper?: boolean;
}

/** What {@link shipCopy} did. */
export interface ShipReport {
  ship: ShipResult;
  /** The return trip made first, when a session had left changes unreturned. */
  returned?: BackResult;
}

function statePathOf(copy: ProjectCopy): string {
  return syncStatePath(copy.stateDir, copy.target.engine, copy.target.volume);
}

function locked<T>(copy: ProjectCopy, fn: () => Promise<T>): Promise<T> {
  const path = statePathOf(copy);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return withFileLockAsync(`${path}.lock`, fn, { what: `the project copy ${copy.target.volume}` });
}

/** The copy's sync target, with its persistent helper when it keeps one. */
function targetOf(copy: ProjectCopy): SyncTarget {
  if (!copy.keepHelper || copy.target.warmHelper !== undefined) return copy.target;
  return { ...copy.target, persistent: { record: `${statePathOf(copy)}.helper` } };
}

function isProtected(copy: ProjectCopy): (path: string) => boolean {
  return (path) => copy.protectedPaths.some((p) => path === p || path.startsWith(`${p}/`));
}

function backInput(copy: ProjectCopy): Omit<BackInput, 'state'> {
  return {
    target: targetOf(copy),
    projectDir: copy.projectDir,
    exclude: copy.exclude,
    stagingDir: join(copy.stateDir, 'sync', 'staging'),
    isProtected: isProtected(copy),
  };
}

function back(copy: ProjectCopy, state: SyncState): Promise<BackResult> {
  return bringBack({ ...backInput(copy), state });
}

/**
 * Ships the project before a session (`sessionStarts`: the record then says a session may change
 * the copy until its changes are brought back).
 */
export function shipCopy(copy: ProjectCopy, sessionStarts: boolean): Promise<ShipReport> {
  return locked(copy, async () => {
    const path = statePathOf(copy);
    let previous = readSyncState(path);
    let returned: BackResult | undefined;
    if (previous?.pendingReturn) {
      returned = await back(copy, previous);
      previous = { ...previous, ...returned.state };
      writeSyncState(path, previous);
    }
    const ship = await shipProject({
      target: targetOf(copy),
      projectDir: copy.projectDir,
      exclude: copy.exclude,
      previous,
    });
    writeSyncState(path, {
      ...ship.state,
      pendingReturn: sessionStarts,
      image: copy.target.image,
      exclude: [...copy.exclude],
      protectedPaths: [...copy.protectedPaths],
    });
    return { ship, ...(returned ? { returned } : {}) };
  });
}

/**
 * Brings the engine's changes back. `stillRunning`: a session goes on changing the copy (the
 * record keeps saying so). Undefined when the project was never shipped to that engine.
 */
export function returnCopy(copy: ProjectCopy, stillRunning: boolean): Promise<BackResult | undefined> {
  return locked(copy, async () => {
    const path = statePathOf(copy);
    const state = readSyncState(path);
    if (!state) return undefined;
    const result = await back(copy, state);
    writeSyncState(path, { ...state, ...result.state, pendingReturn: stillRunning });
    return result;
  });
}

/** A return trip started ahead of time (see {@link startReturn}). */
export interface EarlyReturn {
  /** Brings the changes back now (as {@link returnCopy} with the session over). */
  finish(): Promise<BackResult | undefined>;
  /** Calls the trip off (nothing travels); a no-op once finished. */
  cancel(): Promise<void>;
}

/**
 * Starts the return trip of an attached session while the session starts: the helper container
 * comes up on the engine and waits, before listing, until {@link EarlyReturn.finish} (the
 * session over) sends it the last listing under the copy's lock, as {@link returnCopy} would.
 * A `mino sync` meanwhile is not held up: the lock is taken only at the finish.
 */
export function startReturn(copy: ProjectCopy): EarlyReturn {
  const pending = startBringBack(backInput(copy));
  return {
    finish: () =>
      locked(copy, async () => {
        const path = statePathOf(copy);
        const state = readSyncState(path);
        if (!state) {
          await pending.cancel();
          return undefined;
        }
        const result = await pending.finish(state);
        writeSyncState(path, { ...state, ...result.state, pendingReturn: false });
        return result;
      }),
    cancel: () => pending.cancel(),
  };
}

/** Lines for people about a return trip: what came back, the conflicts, the refused paths. */
export function describeReturn(result: BackResult, engine: string): string[] {
  const lines: string[] = [];
  if (result.applied.length > 0) lines.push(`Brought back ${result.applied.length} change(s) from engine ${engine}`);
  for (const c of result.conflicts) {
    lines.push(
      c.kept
        ? `Conflict: ${c.path} ${c.why}; yours is kept, the engine's is at ${c.kept}`
        : `Conflict: ${c.path} ${c.why}`,
    );
  }
  for (const p of result.refused) lines.push(`Not brought back (protected path): ${p}`);
  return lines;
}

/**
 * The copy of `projectDir` on an engine as its record describes it (image, exclusions and
 * protected paths of the last shipment), for `mino sync` and `mino stop`; undefined when the
 * project was never shipped there.
 */
export function recordedCopy(
  target: Omit<SyncTarget, 'image'>,
  projectDir: string,
  stateDir: string,
): ProjectCopy | undefined {
  const state = readSyncState(syncStatePath(stateDir, target.engine, target.volume));
  if (!state?.image) return undefined;
  return {
    target: { ...target, image: state.image },
    projectDir,
    exclude: state.exclude ?? [],
    stateDir,
    protectedPaths: state.protectedPaths ?? [],
    keepHelper: true,
  };
}
