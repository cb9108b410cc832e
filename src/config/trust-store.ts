import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { minoPaths } from '../common/xdg-paths.js';

/**
 * `$XDG_STATE_HOME/mino/trusted_configs.json`: the project files the user trusted, by canonical
 * path, each pinned to the SHA-256 of the exact content trusted (mino 1.6's format: path →
 * `{content_hash, trusted_at}`, plus `kind`). Written atomically (0600); an unreadable or corrupt
 * store trusts nothing.
 */

/** One trusted file or directory tree. */
interface TrustEntry {
  /** SHA-256 hex of the trusted bytes (for `.mino/layers`, of the whole tree, see project-layers). */
  content_hash: string;
  /** ISO time of the decision. */
  trusted_at: string;
  /** `config` for a `.mino.toml`, `layers` for a `.mino/layers` directory. */
  kind?: 'config' | 'layers';
}

/** The store's content. */
export type TrustStore = Record<string, TrustEntry>;

/** Path of the trust store. */
export function trustStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(minoPaths(env).stateDir, 'trusted_configs.json');
}

/** Reads the store; missing or corrupt means empty. */
export function readTrustStore(path: string): TrustStore {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return {};
    const out: TrustStore = {};
    for (const [key, entry] of Object.entries(data as Record<string, unknown>)) {
      const e = entry as Partial<TrustEntry> | null;
      if (e && typeof e.content_hash === 'string' && /^[0-9a-f]{64}$/.test(e.content_hash)) {
        out[key] = {
          content_hash: e.content_hash,
          trusted_at: String(e.trusted_at ?? ''),
          ...(e.kind ? { kind: e.kind } : {}),
        };
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** True when `target` is trusted with exactly this content hash. */
export function isTrusted(store: TrustStore, target: string, sha256: string): boolean {
  return store[target]?.content_hash === sha256;
}

/** Records (or replaces) trust for each target, atomically. */
export function pinTrust(
  storePath: string,
  entries: ReadonlyArray<{ target: string; sha256: string; kind: 'config' | 'layers' }>,
  now = new Date(),
): void {
  const store = readTrustStore(storePath);
  for (const e of entries) store[e.target] = { content_hash: e.sha256, trusted_at: now.toISOString(), kind: e.kind };
  writeFileAtomic(storePath, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700 });
}

/** Removes trust for the targets; returns how many entries were removed. */
export function revokeTrust(storePath: string, targets: readonly string[]): number {
  const store = readTrustStore(storePath);
  let removed = 0;
  for (const t of targets) {
    if (store[t]) {
      delete store[t];
      removed++;
    }
  }
  if (removed > 0) writeFileAtomic(storePath, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700 });
  return removed;
}
