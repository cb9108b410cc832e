import { spawnDetached } from '../common/spawn-detached.js';
import { log } from '../common/logger.js';
import type { PoolSettings } from './pool-settings.js';
import { selfArgv } from '../common/self-argv.js';

/** Hidden subcommand of the background refill (see refill-pool.ts). */
export const REFILL_COMMAND = '__pool-refill';

/**
 * Starts the background refill of pool `key` as a detached `mino __pool-refill` process (not a
 * daemon: it tops the pool up and exits), first removing `usedContainer` (a claimed container is
 * never returned to the pool). The settings travel as arguments, so the child does not depend on
 * which configuration file this run read.
 */
export function spawnRefill(key: string, settings: PoolSettings, usedContainer?: string): void {
  const argv = [
    ...selfArgv(),
    REFILL_COMMAND,
    key,
    '--max-warm',
    String(settings.maxWarm),
    '--ttl',
    String(settings.warmTtlSeconds),
    ...(usedContainer === undefined ? [] : ['--remove', usedContainer]),
  ];
  const pid = spawnDetached(argv);
  log.debug('pool refill started', { key, pid, usedContainer });
}
