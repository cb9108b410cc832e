import { randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { identityAlive, processIdentity } from '../common/process-identity.js';

/**
 * Scratch directories for image builds under `<dataDir>/builds/<pid>.<start time>.<uuid>`,
 * removed afterwards on success, failure and Ctrl-C (SIGINT, SIGTERM, SIGHUP: removed, then the
 * process exits 128+n). A build killed outright (SIGKILL, a crash, a power cut) leaves its
 * directory: its name says whose it was, so {@link removeDeadBuildDirs} (mino gc, and every
 * compose) removes it once that process is gone, and never one whose process still runs.
 */

/** A build directory named before owners were recorded (a bare UUID) is dead after this long. */
export const UNOWNED_BUILD_DIR_AGE_MS = 24 * 3600_000;

/** The name of a new build directory of this process: `<pid>.<start time>.<uuid>`. */
export function newBuildDirName(identity: string = processIdentity()): string {
  return `${identity.replace('@', '.')}.${randomUUID()}`;
}

const OWNED = /^(\d+)(?:\.(\d+))?\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNOWNED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The process identity (`<pid>@<start time>`) a build directory name records, or undefined. */
export function buildDirOwner(name: string): string | undefined {
  const m = OWNED.exec(name);
  if (!m) return undefined;
  return m[2] === undefined ? m[1] : `${m[1]}@${m[2]}`;
}

/** What {@link removeDeadBuildDirs} found. */
export interface DeadBuildDirs {
  /** Directories whose process is gone: removed (or, with `dryRun`, to be removed). */
  removed: { path: string; owner: string | undefined }[];
  /** Dead directories that could not be removed, with why. */
  failed: { path: string; error: string }[];
}

/**
 * Finds the build directories under `<dataDir>/builds` whose process is gone (PID and start
 * time; a bare-UUID directory of an older mino once it is {@link UNOWNED_BUILD_DIR_AGE_MS} old)
 * and removes them unless `dryRun`. Lock files and anything else are left alone.
 */
export function removeDeadBuildDirs(dataDir: string, dryRun = false, now = Date.now()): DeadBuildDirs {
  const parent = join(dataDir, 'builds');
  const result: DeadBuildDirs = { removed: [], failed: [] };
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return result;
  }
  for (const name of names) {
    const path = join(parent, name);
    const owner = buildDirOwner(name);
    let dead: boolean;
    try {
      const st = lstatSync(path);
      if (!st.isDirectory()) continue;
      dead =
        owner !== undefined ? !identityAlive(owner) : UNOWNED.test(name) && now - st.mtimeMs > UNOWNED_BUILD_DIR_AGE_MS;
    } catch {
      continue;
    }
    if (!dead) continue;
    if (!dryRun) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch (err) {
        result.failed.push({ path, error: errorMessage(err) });
        continue;
      }
    }
    result.removed.push({ path, owner });
  }
  return result;
}

/** A scratch directory and how to remove it. */
export interface BuildDir {
  path: string;
  /**
   * Removes what this process cannot (a rootless debootstrap leaves files owned by sub-uids,
   * removed inside the engine's user namespace). Set by whoever creates such files.
   */
  remover: ((path: string) => Promise<void>) | undefined;
  /** Aborted when a signal ends mino: pass it to long-running children (podman build). */
  signal: AbortSignal;
}

interface LiveDir extends BuildDir {
  abort: AbortController;
  /** Set when a signal started the removal: the body's `finally` waits for it. */
  removing?: Promise<void>;
}

const live = new Set<LiveDir>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

async function removeNow(dir: BuildDir): Promise<void> {
  if (dir.remover) await dir.remover(dir.path).catch(() => undefined);
  rmSync(dir.path, { recursive: true, force: true });
}

let ending = false;

function onSignal(signal: NodeJS.Signals): void {
  const code = SIGNAL_CODES[signal] ?? 1;
  // A second signal while the directories are being removed ends mino at once.
  if (ending) process.exit(code);
  ending = true;
  const dirs = [...live];
  live.clear();
  for (const dir of dirs) {
    dir.removing = removeNow(dir);
    dir.abort.abort();
  }
  // Best effort: the process is ending either way.
  void Promise.allSettled(dirs.map((dir) => dir.removing)).finally(() => process.exit(code));
}

function track(dir: LiveDir): void {
  if (live.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  live.add(dir);
}

function untrack(dir: LiveDir): void {
  live.delete(dir);
  if (live.size === 0) for (const s of SIGNALS) process.off(s, onSignal);
}

/**
 * Runs `body` with a fresh directory `<dataDir>/builds/<pid>.<start time>.<uuid>` (mode 0755, so a rootless
 * user namespace can read it) and removes it however `body` ends.
 */
export async function withBuildDir<T>(dataDir: string, body: (dir: BuildDir) => Promise<T>): Promise<T> {
  const parent = join(dataDir, 'builds');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const abort = new AbortController();
  const dir: LiveDir = { path: join(parent, newBuildDirName()), remover: undefined, signal: abort.signal, abort };
  mkdirSync(dir.path, { mode: 0o755 });
  track(dir);
  try {
    return await body(dir);
  } finally {
    if (dir.removing) {
      await dir.removing.catch(() => undefined);
    } else {
      untrack(dir);
      await removeNow(dir);
    }
  }
}
