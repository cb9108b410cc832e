import { UsageError } from '../common/errors.js';

/**
 * The `[pool]` configuration of the warm pool (defaults: min_warm 2, max_warm 10, warm_ttl 600 s),
 * checked together (the schema checks each key's range; this checks how they relate).
 */

/** Settings of the warm pool. */
export interface PoolSettings {
  /** `pool.enabled`: runs take warm containers and refill the pool. */
  enabled: boolean;
  /** `pool.min_warm`: containers `mino pool warm` keeps warm when `-n` is not given. */
  minWarm: number;
  /** `pool.max_warm`: most warm containers of this state directory, all pools together. */
  maxWarm: number;
  /** `pool.warm_ttl`: seconds an unclaimed warm container lives before it removes itself. */
  warmTtlSeconds: number;
}

/** The defaults: on, 2 to 10 warm containers, each kept 600 s. */
export const DEFAULT_POOL_SETTINGS: Readonly<PoolSettings> = Object.freeze({
  enabled: true,
  minWarm: 2,
  maxWarm: 10,
  warmTtlSeconds: 600,
});

/** The `[pool]` table as the configuration schema gives it. */
export interface PoolTable {
  enabled: boolean;
  min_warm: number;
  max_warm: number;
  warm_ttl: number;
}

/** Settings of a `[pool]` table; a usage error (exit 2) when min_warm is above max_warm. */
export function poolSettingsOf(table: PoolTable): PoolSettings {
  if (table.min_warm > table.max_warm) {
    throw new UsageError(
      `Invalid [pool] configuration: min_warm (${table.min_warm}) is above max_warm (${table.max_warm})`,
      `Lower pool.min_warm or raise pool.max_warm, e.g. 'mino config set pool.max_warm ${table.min_warm}'`,
    );
  }
  return { enabled: table.enabled, minWarm: table.min_warm, maxWarm: table.max_warm, warmTtlSeconds: table.warm_ttl };
}
