import { readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { isErrno } from '../common/errno.js';
import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import type { StoreLocation } from './container-runtime.js';

/**
 * mino's own image store: for a rootless user whose podman store uses the slow `vfs` driver and
 * holds objects of their own (so it cannot be reset), `mino setup` keeps mino's images,
 * containers and volumes in a separate store on overlay, selected per podman call with
 * `--root/--runroot/--tmpdir/--storage-driver`. The user's store is never touched.
 *
 * Where it lives: `$XDG_DATA_HOME/mino/containers/storage` (graph root) and
 * `$XDG_RUNTIME_DIR/mino/{storage,libpod}` (run root and libpod's tmp dir, on the tmpfs).
 * A small record, `$XDG_DATA_HOME/mino/containers/store.json`, written by setup and read (no
 * podman call) whenever a command picks its runtime, makes every command use the same store.
 */

/** Drivers mino's own store may use. */
const DRIVERS = ['overlay'] as const;

/** The record's file name inside `<dataDir>/containers`. */
const RECORD = 'store.json';

/** Directory of mino's own store and its record: `$XDG_DATA_HOME/mino/containers`. */
function ownStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(minoPaths(env).dataDir, 'containers');
}

/** Path of the record that says mino uses its own store. */
export function ownStoreRecordPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(ownStoreDir(env), RECORD);
}

/**
 * Where mino's own store goes for this user: the graph root under mino's data directory, the
 * run root and libpod's tmp dir under `runtimeDir` (`$XDG_RUNTIME_DIR`, a per-user tmpfs).
 */
export function ownStoreLocation(env: NodeJS.ProcessEnv, runtimeDir: string): StoreLocation {
  if (!isAbsolute(runtimeDir)) throw new MinoError(`XDG_RUNTIME_DIR is not an absolute path: ${runtimeDir}`);
  const run = join(runtimeDir, 'mino');
  return {
    graphRoot: join(ownStoreDir(env), 'storage'),
    runRoot: join(run, 'storage'),
    tmpDir: join(run, 'libpod'),
    driver: 'overlay',
  };
}

function invalid(path: string, why: string): MinoError {
  return new MinoError(`${path} is not a valid record of mino's own image store: ${why}`, {
    hint: `Run: mino setup (it rewrites the record), or remove ${path} to use podman's default store`,
  });
}

/** Parses a record's text; throws a MinoError naming `path` when it is not one. */
export function parseOwnStoreRecord(path: string, text: string): StoreLocation {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw invalid(path, 'not an object');
  const record = data as Record<string, unknown>;
  const path_ = (key: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || !isAbsolute(value) || value.includes('\0') || /(^|\/)\.\.(\/|$)/.test(value)) {
      throw invalid(path, `${key} must be an absolute path`);
    }
    return value;
  };
  const driver = record.driver;
  if (typeof driver !== 'string' || !(DRIVERS as readonly string[]).includes(driver))
    throw invalid(path, `unsupported driver ${String(driver)}`);
  return { graphRoot: path_('graphRoot'), runRoot: path_('runRoot'), tmpDir: path_('tmpDir'), driver };
}

/**
 * mino's own store when setup recorded one for this user, else undefined (podman's default
 * store). One small file read, no podman call: every command's start-up pays only that.
 */
export function readOwnStore(env: NodeJS.ProcessEnv = process.env): StoreLocation | undefined {
  const path = ownStoreRecordPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw new MinoError(`cannot read ${path}: ${(err as Error).message}`, { hint: `Check the permissions of ${path}` });
  }
  return parseOwnStoreRecord(path, text);
}

/** Records that mino uses `store` from now on (atomically; the directory is created 0700). */
export function writeOwnStore(store: StoreLocation, env: NodeJS.ProcessEnv = process.env): string {
  const path = ownStoreRecordPath(env);
  const record = {
    graphRoot: store.graphRoot,
    runRoot: store.runRoot,
    tmpDir: store.tmpDir,
    driver: store.driver,
    createdAt: new Date().toISOString(),
  };
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700 });
  return path;
}

/** Forgets the record (mino goes back to podman's default store); the store itself stays. */
export function forgetOwnStore(env: NodeJS.ProcessEnv = process.env): void {
  rmSync(ownStoreRecordPath(env), { force: true });
}
