import { randomUUID } from 'node:crypto';
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
 * Runs `body` with a fresh directory `<dataDir>/builds/<uuid>` (mode 0755, so a rootless
 * user namespace can read it) and removes it however `body` ends.
 */
export async function withBuildDir<T>(dataDir: string, body: (dir: BuildDir) => Promise<T>): Promise<T> {
  const parent = join(dataDir, 'builds');
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const abort = new AbortController();
  const dir: LiveDir = { path: join(parent, randomUUID()), remover: undefined, signal: abort.signal, abort };
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
