import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Scratch directories for image builds under `<dataDir>/builds/<uuid>`, removed afterwards on
 * success, failure and Ctrl-C (SIGINT, SIGTERM, SIGHUP: removed, then the process exits 128+n).
 */

/** A scratch directory and how to remove it. */
export interface BuildDir {
  path: string;
  /**
   * Extra argv prefix that removes files this process cannot (a rootless debootstrap leaves
   * files owned by sub-uids: `['podman', 'unshare']`). Set by whoever creates such files.
   */
  removePrefix: string[];
  /** Aborted when a signal ends mino: pass it to long-running children (podman build). */
  signal: AbortSignal;
}

interface LiveDir extends BuildDir {
  abort: AbortController;
}

const live = new Set<LiveDir>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

function removeNow(dir: BuildDir): void {
  if (dir.removePrefix.length > 0) {
    const [file, ...args] = [...dir.removePrefix, 'rm', '-rf', '--', dir.path];
    spawnSync(file!, args, { stdio: 'ignore' });
  }
  rmSync(dir.path, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  for (const dir of live) {
    try {
      dir.abort.abort();
      removeNow(dir);
    } catch {
      // Best effort: the process is ending.
    }
  }
  live.clear();
  process.exit(SIGNAL_CODES[signal] ?? 1);
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
 * Runs `body` with a fresh directory `<dataDir>/builds/<uuid>` (mode 0755, so a rootless
 * user namespace can read it) and removes it however `body` ends.
 */
export async function withBuildDir<T>(dataDir: string, body: (dir: BuildDir) => Promise<T>): Promise<T> {
  const parent = join(dataDir, 'builds');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const abort = new AbortController();
  const dir: LiveDir = { path: join(parent, randomUUID()), removePrefix: [], signal: abort.signal, abort };
  mkdirSync(dir.path, { mode: 0o755 });
  track(dir);
  try {
    return await body(dir);
  } finally {
    untrack(dir);
    removeNow(dir);
  }
}
