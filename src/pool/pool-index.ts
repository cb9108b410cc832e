import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errnoCode } from '../common/errno.js';
import { MinoError } from '../common/errors.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import type { WarmCopyLayout } from '../workspace/warm-copy.js';
import { compareText } from '../common/compare-text.js';

/**
 * The pool index: which warm containers exist for which key, kept in files under
 * `<state>/pool/` so that `mino run` finds one and `mino pool status` counts them without asking
 * podman (each podman call costs 30–50 ms). Podman stays the authority: a claim renames the
 * container, which fails when it is gone, and `mino pool drain` removes by label.
 *
 * - `<key>/pool.json`: the pool of one plan (its container spec without per-run fields, the
 *   project, the size asked by `mino pool warm`);
 * - `<key>/warm/<container>.json`: one warm container (ID, image ID, expiry);
 * - claiming moves that file to `<key>/claimed/` with rename(2): of two runs, exactly one gets it.
 */

/** A pool: one plan kept warm. */
export interface PoolRecord {
  key: string;
  /** Canonical project directory the plan is for. */
  project_dir: string;
  /** Image reference of the plan. */
  image: string;
  /** Warm containers to keep (as asked by `mino pool warm -n`). */
  target: number;
  /** The plan's container spec without per-run fields (name, command, terminal, session labels). */
  spec: ContainerSpec;
  /** Supplementary groups warm containers get (see warmGroupsFor in pool-key.ts). */
  group_add: string[];
  /** The engine's image store index (ContainerRuntime.imageStoreIndexPath), when known. */
  image_store?: string;
  /**
   * The registered engine (src/engine/) the warm containers run on; absent: this machine's. Its
   * warm containers mount the project's shipped volume there and have no warm agent (their runs
   * use `podman exec` through the engine's tunnel: pool/remote-pool.ts).
   */
  engine?: string;
  /** On a remote engine: the project volume its plan mounts (the warm sync helper's, warm-sync-helper.ts). */
  project_volume?: string;
  /** A contained plan's egress: each warm container gets a proxy of its own (pool/warm-egress.ts). */
  egress?: PoolEgress;
  /** ISO time of the last `mino pool warm`. */
  updated_at: string;
  /** A branch plan's pool (`mino pool warm --branch`): `spec` names the working copy's folder by a placeholder, each warm container gets a folder of its own laid out so. */
  branch?: WarmCopyLayout;
}

/** What warm containers of a contained plan need of its egress (never its rules). */
export interface PoolEgress {
  /** The plan's network mode (allowlist or learn), part of the key; warm proxies allow nothing until claimed. */
  mode: 'allowlist' | 'learn';
  /** Where the proxy listens inside the container. */
  listen: { host: string; port: number };
  /** Podman runs rootless (the proxy enters the container's user namespace). */
  rootless: boolean;
  /** The plan mounts the ssh ProxyCommand configuration (network/ssh-proxy-config.ts). */
  sshConfig: boolean;
  /** The proxy terminates TLS: each warm container gets a CA of its own (warm-tls.ts). Part of the key. */
  tls?: boolean;
  /** `network.upstream_ca`'s certificates (PEM, not secret) for a terminating proxy. Part of the key. */
  upstreamCa?: string[];
}

/** One warm container. */
export interface WarmEntry {
  /** Container name (`mino.warm.…`). */
  name: string;
  /** Full container ID. */
  id: string;
  /** ID of the image it was started from. */
  image_id: string;
  /** Milliseconds since the epoch just before that ID was read from the engine. */
  verified_at?: number;
  /** Seconds since the epoch at which it removes itself. */
  expires_at: number;
  /** Milliseconds since the epoch it was started. */
  created_at: number;
}

/**
 * Seconds before its expiry a warm container is no longer handed out: the claim and the start of
 * the command must happen while its main process still waits.
 */
export const CLAIM_MARGIN_SECONDS = 5;

const KEY_RE = /^[0-9a-f]{24}$/;
const NAME_RE = /^mino\.warm\.[0-9a-f]{12}\.[0-9a-f]{8}$/;

/** Checks a pool key (it becomes a directory name). */
export function validatePoolKey(key: string): string {
  if (!KEY_RE.test(key)) throw new MinoError(`Invalid pool key '${key.slice(0, 40)}'`);
  return key;
}

/** `<state>/pool`. */
export function poolRoot(stateDir: string): string {
  return join(stateDir, 'pool');
}

function keyDir(stateDir: string, key: string): string {
  return join(poolRoot(stateDir), validatePoolKey(key));
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Keys of the pools of this state directory. */
export function listPoolKeys(stateDir: string): string[] {
  return names(poolRoot(stateDir))
    .filter((n) => KEY_RE.test(n))
    .sort();
}

/** The pool of `key`, or undefined. */
export function readPool(stateDir: string, key: string): PoolRecord | undefined {
  return readJson<PoolRecord>(join(keyDir(stateDir, key), 'pool.json'));
}

/** Creates or replaces the pool record. */
export function writePool(stateDir: string, record: PoolRecord): void {
  const dir = keyDir(stateDir, record.key);
  mkdirSync(join(dir, 'warm'), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, 'pool.json'), `${JSON.stringify(record, null, 2)}\n`, {
    mode: 0o600,
    mkdirMode: 0o700,
    durable: false,
  });
}

/** Forgets a pool and its entries (the containers are the caller's business). */
export function removePool(stateDir: string, key: string): void {
  rmSync(keyDir(stateDir, key), { recursive: true, force: true });
}

/**
 * The warm containers of `key` that can still be handed out at `nowSeconds`, oldest first (they
 * expire first). Entries past their expiry (minus the claim margin) are dropped from the index:
 * their containers remove themselves.
 */
export function warmEntries(stateDir: string, key: string, nowSeconds: number): WarmEntry[] {
  const dir = join(keyDir(stateDir, key), 'warm');
  const out: WarmEntry[] = [];
  for (const file of names(dir)) {
    if (!file.endsWith('.json')) continue;
    const entry = readJson<WarmEntry>(join(dir, file));
    if (!entry || !NAME_RE.test(entry.name)) continue;
    if (entry.expires_at - CLAIM_MARGIN_SECONDS <= nowSeconds) {
      unlinkQuiet(join(dir, file));
      continue;
    }
    out.push(entry);
  }
  return out.sort((a, b) => a.expires_at - b.expires_at || compareText(a.name, b.name));
}

/** Records a started warm container. */
export function addWarmEntry(stateDir: string, key: string, entry: WarmEntry): void {
  if (!NAME_RE.test(entry.name)) throw new MinoError(`Invalid warm container name '${entry.name}'`);
  const dir = join(keyDir(stateDir, key), 'warm');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, `${entry.name}.json`), `${JSON.stringify(entry)}\n`, {
    mode: 0o600,
    mkdirMode: 0o700,
    durable: false,
  });
}

/** Drops a warm container from the index (it is gone, or being removed). */
export function removeWarmEntry(stateDir: string, key: string, name: string): void {
  unlinkQuiet(join(keyDir(stateDir, key), 'warm', `${name}.json`));
}

/**
 * Takes the entry `name` out of the index for this process (rename(2) into `claimed/`): true
 * when this process got it, false when another one was first. The claimed file is deleted.
 */
export function claimWarmEntry(stateDir: string, key: string, name: string): boolean {
  const dir = keyDir(stateDir, key);
  const claimed = join(dir, 'claimed');
  mkdirSync(claimed, { recursive: true, mode: 0o700 });
  const target = join(claimed, `${name}.${process.pid}.json`);
  try {
    renameSync(join(dir, 'warm', `${name}.json`), target);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  unlinkQuiet(target);
  return true;
}

/**
 * True when the engine's image store index at `path` (ContainerRuntime.imageStoreIndexPath) has
 * not changed since `since` (ms): no image was added, removed or tagged, so an image reference
 * still names the image ID read then. False when either is unknown or the file cannot be read.
 */
export function imageStoreUnchangedSince(path: string | undefined, since: number | undefined): boolean {
  if (path === undefined || since === undefined) return false;
  try {
    return statSync(path).mtimeMs < since;
  } catch {
    return false;
  }
}

/**
 * Containers runs have used, waiting for the refill to remove them: `<key>/used/<container ID>`
 * (empty files). A run only adds its file; the one refill of the key (see refill-pool.ts) removes
 * the containers, in one go after a burst of runs, and then their files.
 */
function usedDir(stateDir: string, key: string): string {
  return join(keyDir(stateDir, key), 'used');
}

const CONTAINER_ID_RE = /^[0-9a-f]{12,64}$/;

/** Queues container `id` (a full or short podman ID) for removal by the refill; throws when the pool is gone. */
export function queueUsed(stateDir: string, key: string, id: string): void {
  if (!CONTAINER_ID_RE.test(id)) throw new MinoError(`Invalid container ID '${id.slice(0, 70)}'`);
  const dir = usedDir(stateDir, key);
  try {
    // Not recursive: a pool drained meanwhile is not brought back by its used containers (ENOENT).
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
  writeFileSync(join(dir, id), '', { mode: 0o600 });
}

/** The used containers queued for removal, and when the latest was queued (ms since the epoch; 0 for none). */
export function usedContainers(stateDir: string, key: string): { ids: string[]; latestMs: number } {
  const dir = usedDir(stateDir, key);
  const ids: string[] = [];
  let latestMs = 0;
  for (const name of names(dir)) {
    if (!CONTAINER_ID_RE.test(name)) continue;
    try {
      latestMs = Math.max(latestMs, statSync(join(dir, name)).mtimeMs);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    ids.push(name);
  }
  return { ids: ids.sort(), latestMs };
}

/** Forgets a queued used container (it was removed). */
export function forgetUsed(stateDir: string, key: string, id: string): void {
  if (CONTAINER_ID_RE.test(id)) unlinkQuiet(join(usedDir(stateDir, key), id));
}

/** The marker of the refill of `key` under way (see refill-pool.ts). */
export function refillMarkerPath(stateDir: string, key: string): string {
  return join(keyDir(stateDir, key), 'refill.lock');
}
