import { existsSync } from 'node:fs';
import { listPoolKeys, readPool, warmEntries } from './pool-index.js';
import type { PoolSettings } from './pool-settings.js';
import { poolLockPath } from './start-warm.js';
import { refillUnderWay } from './pool-refill-spawn.js';

/** One pool in `mino pool status`. */
interface PoolStatusEntry {
  key: string;
  /** The remote engine its warm containers run on; null: this machine's. */
  engine: string | null;
  project_dir: string | null;
  image: string | null;
  /** Size asked by `mino pool warm`. */
  target: number;
  /** Warm containers that can be handed out now. */
  warm: number;
  /** ISO time the next warm container expires, or null. */
  next_expiry: string | null;
}

/** `mino pool status`. */
export interface PoolStatus {
  enabled: boolean;
  min_warm: number;
  max_warm: number;
  warm_ttl: number;
  /** Warm containers of all pools. */
  warm_total: number;
  /** A warm or refill is under way (the pool lock is held). */
  refilling: boolean;
  pools: PoolStatusEntry[];
}

/**
 * Use case `mino pool status`: read from the pool index alone (no podman call, no session file),
 * so it costs about a Node start-up. Expired entries are swept from the index on the way.
 * `engine` (a remote engine's name, null for this machine's) lists that engine's pools only.
 */
export function poolStatus(
  stateDir: string,
  settings: PoolSettings,
  now = new Date(),
  engine?: string | null,
): PoolStatus {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const all = listPoolKeys(stateDir).map((key): PoolStatusEntry => {
    const record = readPool(stateDir, key);
    const warm = warmEntries(stateDir, key, nowSeconds);
    return {
      key,
      engine: record?.engine ?? null,
      project_dir: record?.project_dir ?? null,
      image: record?.image ?? null,
      target: record?.target ?? 0,
      warm: warm.length,
      next_expiry: warm.length > 0 ? new Date(warm[0]!.expires_at * 1000).toISOString() : null,
    };
  });
  const pools = engine === undefined ? all : all.filter((p) => p.engine === engine);
  return {
    enabled: settings.enabled,
    min_warm: settings.minWarm,
    max_warm: settings.maxWarm,
    warm_ttl: settings.warmTtlSeconds,
    warm_total: pools.reduce((n, p) => n + p.warm, 0),
    refilling: existsSync(poolLockPath(stateDir)) || pools.some((p) => refillUnderWay(stateDir, p.key)),
    pools,
  };
}
