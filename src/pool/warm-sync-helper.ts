import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../common/atomic-write.js';
import { log } from '../common/logger.js';
import type { SessionContext } from '../context/session-context.js';
import { LABEL_POOL, LABEL_STATE } from '../session/session-labels.js';
import { warmHelperSpec } from '../sync/sync-helper.js';
import { poolRoot, validatePoolKey, type PoolRecord } from './pool-index.js';
import { warmContainerName } from './warm-spec.js';

/**
 * The warm sync helper of a pool on a remote engine: one of mino's own helper containers
 * (sync/sync-helper.ts: the project volume, root, no network; never the sandbox's container)
 * kept running beside the warm containers, so that a run's shipment and return trip are a
 * `podman exec` into it instead of a new container each (the return trip's container start was
 * most of a pooled remote run). It is named and labelled as a warm container of the pool (so
 * `mino pool drain` removes it and reconciliation leaves it alone), and recorded in
 * `<state>/pool/<key>/sync-helper.json`.
 */

/** The record of a pool's warm sync helper. */
interface SyncHelperEntry {
  id: string;
  name: string;
  /** Seconds since the epoch after which runs no longer use it (it lives HELPER_GRACE_SECONDS longer). */
  expires_at: number;
}

/** How long a warm helper lives beyond its recorded expiry (a run that took it still finishes in it). */
const HELPER_GRACE_SECONDS = 120;
/** A helper this close to its recorded expiry is not given to a run any more. */
const USE_MARGIN_SECONDS = 30;

function entryPath(stateDir: string, key: string): string {
  return join(poolRoot(stateDir), validatePoolKey(key), 'sync-helper.json');
}

function readEntry(stateDir: string, key: string): SyncHelperEntry | undefined {
  try {
    const entry = JSON.parse(readFileSync(entryPath(stateDir, key), 'utf8')) as Partial<SyncHelperEntry>;
    return typeof entry.id === 'string' && typeof entry.name === 'string' && typeof entry.expires_at === 'number'
      ? (entry as SyncHelperEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The ID of the live warm sync helper of pool `key`, if it has one a run can use now. */
export function liveSyncHelper(
  stateDir: string,
  key: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | undefined {
  const entry = readEntry(stateDir, key);
  return entry && entry.expires_at - USE_MARGIN_SECONDS > nowSeconds ? entry.id : undefined;
}

/** Whether helper `id` of pool `key` still runs (one `podman ps`; when the engine cannot tell, assumed). */
async function stillRuns(ctx: SessionContext, key: string, id: string): Promise<boolean> {
  try {
    const listed = await ctx.runtime.listContainers({ [LABEL_POOL]: key, [LABEL_STATE]: ctx.stateKey });
    return listed.some((c) => c.id === id && c.state === 'running');
  } catch {
    return true;
  }
}

/**
 * Starts the warm sync helper of a remote pool `record` unless one runs with more than half its
 * time left (call it holding the pool lock; a helper that went away, an engine restarted, is
 * replaced here, by the refill that follows the next run). A failure is logged, never thrown: runs then start a
 * helper container each, as without a pool.
 */
export async function ensureSyncHelper(ctx: SessionContext, record: PoolRecord, ttlSeconds: number): Promise<void> {
  if (record.engine === undefined || record.project_volume === undefined) return;
  const now = Math.floor(Date.now() / 1000);
  const entry = readEntry(ctx.stateDir, record.key);
  if (entry && entry.expires_at - now > ttlSeconds / 2 && (await stillRuns(ctx, record.key, entry.id))) return;
  const name = warmContainerName(record.key);
  const target = {
    runtime: ctx.runtime,
    engine: record.engine,
    volume: record.project_volume,
    image: record.image,
    labels: {},
  };
  const labels = { [LABEL_STATE]: ctx.stateKey, [LABEL_POOL]: record.key };
  try {
    const id = await ctx.runtime.run(warmHelperSpec(target, name, labels, ttlSeconds + HELPER_GRACE_SECONDS));
    const next: SyncHelperEntry = { id, name, expires_at: now + ttlSeconds };
    writeFileAtomic(entryPath(ctx.stateDir, record.key), `${JSON.stringify(next)}\n`, {
      mode: 0o600,
      mkdirMode: 0o700,
      durable: false,
    });
  } catch (err) {
    log.warn('could not start the warm sync helper', { engine: record.engine, error: String(err) });
  }
}
