import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The number of warm pool containers of a state directory, from the pool's own index files
 * (`<state>/pool/<key>/warm/<container>.json`, each with `expires_at` in seconds since the epoch;
 * see the warm pool), without asking podman. Entries past their expiry are not counted (the
 * container has removed itself); unreadable entries are skipped.
 */
export function countWarmContainers(stateDir: string, nowMs = Date.now()): number {
  const root = join(stateDir, 'pool');
  let keys: string[];
  try {
    keys = readdirSync(root);
  } catch {
    return 0;
  }
  let count = 0;
  for (const key of keys) {
    if (!/^[0-9a-f]{24}$/.test(key)) continue;
    let entries: string[];
    try {
      entries = readdirSync(join(root, key, 'warm'));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.endsWith('.json')) continue;
      try {
        const data = JSON.parse(readFileSync(join(root, key, 'warm', entry), 'utf8')) as { expires_at?: unknown };
        if (typeof data.expires_at === 'number' && data.expires_at * 1000 > nowMs) count += 1;
      } catch {
        // Being claimed or written right now: not a warm container to count.
      }
    }
  }
  return count;
}
