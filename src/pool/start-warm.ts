import { join } from 'node:path';
import { withFileLockAsync } from '../common/file-lock.js';
import { log } from '../common/logger.js';
import { LABEL_POOL, LABEL_STATE } from '../session/session-labels.js';
import { countCreated, startWarmContainer } from '../launch/execute-plan.js';
import {
  addWarmEntry,
  listPoolKeys,
  poolRoot,
  removeWarmEntry,
  warmEntries,
  type PoolRecord,
  type WarmEntry,
} from './pool-index.js';
import { warmContainerName, warmSpecOf } from './warm-spec.js';
import { placeBranchBase, placeRemotePoolCa, placeSessionCa } from './pool-key.js';
import { remoteWarmTls } from './remote-warm-tls.js';
import { makeWarmTls } from './warm-tls.js';
import { makeWarmCopy, removeWarmCopy, sweepWarmCopies } from '../workspace/warm-copy.js';
import { prepareAgentDir, removeAgentDir, sweepAgentDirs } from './warm-agent-dir.js';
import { startWarmEgress } from './warm-egress.js';
import { ensureSyncHelper } from './warm-sync-helper.js';
import {
  needsRemoteEgress,
  poolCaBundle,
  prepareRemoteEgress,
  removeRemoteWarmEgress,
  startRemoteWarmEgress,
  sweepRemoteWarmEgress,
} from './remote-warm-egress.js';
import type { EgressStarter } from '../network/session-egress.js';
import type { SessionContext } from '../context/session-context.js';
import { mkdirSync } from 'node:fs';

/**
 * Starting warm containers, shared by `mino pool warm` and the background refill: both work
 * under one lock per state directory, so two of them never start more than `max_warm` together.
 */

/** The image ID `ref` names now, and the time just before it was asked (see WarmEntry.verified_at). */
export async function currentImage(
  ctx: SessionContext,
  ref: string,
): Promise<{ id: string; user: string; verifiedAt: number } | undefined> {
  const verifiedAt = Date.now();
  const facts = await ctx.runtime.imageInspect(ref);
  return facts && { id: facts.id, user: facts.user, verifiedAt };
}

/** Runs `fn` holding the pool lock of this state directory (waits for a refill in progress). */
export async function withPoolLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(poolRoot(stateDir), { recursive: true, mode: 0o700 });
  return withFileLockAsync(poolLockPath(stateDir), fn, { what: 'the warm pool', timeoutMs: 10 * 60_000, pollMs: 100 });
}

/** The pool lock file (its presence means a warm or refill is under way). */
export function poolLockPath(stateDir: string): string {
  return join(poolRoot(stateDir), '.lock');
}

/** Warm containers of every pool of this state directory that can still be handed out. */
function warmTotal(stateDir: string, nowSeconds: number): number {
  return listPoolKeys(stateDir).reduce((n, key) => n + warmEntries(stateDir, key, nowSeconds).length, 0);
}

/** What {@link fillPool} did. */
export interface FillResult {
  /** Warm containers of the pool afterwards. */
  warm: number;
  started: number;
  /** Containers removed because they were started from an image that has changed since. */
  replaced: number;
  /** Fewer were started than asked because `max_warm` counts all pools together. */
  cappedByMax: boolean;
}

/**
 * Tops the pool `record` up to its target (call it holding the pool lock): drops warm containers
 * of another image ID than `imageId`, then starts the missing ones, one `podman run -d` each,
 * without going over `maxWarm` warm containers in all pools. Each start is counted in the
 * sandbox counters. A container that fails to start stops the fill with its error. A contained
 * plan's warm containers each start with an egress proxy of their own (warm-egress.ts).
 */
export async function fillPool(
  ctx: SessionContext,
  record: PoolRecord,
  image: { id: string; verifiedAt: number },
  maxWarm: number,
  ttlSeconds: number,
  startEgress?: EgressStarter,
): Promise<FillResult> {
  const imageId = image.id;
  const now = (): number => Math.floor(Date.now() / 1000);
  let live = warmEntries(ctx.stateDir, record.key, now());
  const stale = live.filter((e) => e.image_id !== imageId);
  for (const e of stale) {
    removeWarmEntry(ctx.stateDir, record.key, e.name);
    removeAgentDir(ctx.stateDir, e.name);
    await ctx.runtime
      .remove(e.id)
      .catch((err: unknown) =>
        log.warn('could not remove a stale warm container', { name: e.name, error: String(err) }),
      );
  }
  live = live.filter((e) => e.image_id === imageId);
  // Agent directories of containers no pool lists any more (expired, used, drained) go.
  const liveNames = listPoolKeys(ctx.stateDir).flatMap((k) => warmEntries(ctx.stateDir, k, now()).map((e) => e.name));
  sweepAgentDirs(ctx.stateDir, liveNames);
  // A branch pool's warm folders of containers no pool lists (a claimed one is moved away at once).
  if (record.branch) sweepWarmCopies(record.branch.dir, new Set(liveNames));
  const wanted = Math.max(0, record.target - live.length);
  const room = Math.max(0, maxWarm - warmTotal(ctx.stateDir, now()));
  const count = Math.min(wanted, room);
  // A remote contained plan: each warm container has a proxy there (remote-warm-egress.ts); those
  // that ended unclaimed (their time is up) go first.
  const remoteEgress = needsRemoteEgress(record) ? await prepareRemoteEgress(ctx) : undefined;
  if (remoteEgress) await sweepRemoteWarmEgress(ctx);
  // On a remote engine its warm containers' CA bundle (the host's CAs): the engine's one secret of
  // it; a terminating pool's: its pool CA's (remote-warm-tls.ts).
  const remoteTls =
    remoteEgress && record.egress?.tls && record.engine !== undefined && count > 0
      ? await remoteWarmTls(ctx, { ...record, engine: record.engine }, process.env)
      : undefined;
  const hostBundle = record.engine !== undefined && count > 0 && !remoteTls ? poolCaBundle(ctx, record) : undefined;
  await hostBundle?.ensure();
  const bundle = remoteTls ?? hostBundle;
  const poolSpec = remoteTls ? placeRemotePoolCa(record.spec, remoteTls.secret) : record.spec;
  let started = 0;
  for (let i = 0; i < count; i++) {
    const begin = Date.now();
    const name = warmContainerName(record.key);
    // On a remote engine no folder of this machine can be mounted: no warm agent (remote-pool.ts).
    const agentDir = record.engine === undefined ? prepareAgentDir(ctx.stateDir, name) : undefined;
    // A branch plan's container mounts an empty folder of its own where a claim puts its copy.
    const copyBase = record.branch ? makeWarmCopy(record.branch, name) : undefined;
    const spec = warmSpecOf(
      copyBase === undefined ? poolSpec : placeBranchBase(poolSpec, copyBase),
      record.key,
      ttlSeconds,
      new Date(begin),
      record.group_add ?? [],
      name,
      agentDir,
    );
    // A terminating plan's container trusts a CA of its own, whose key its proxy holds.
    const tls =
      record.egress?.tls && !remoteEgress
        ? await makeWarmTls(ctx.stateDir, name, process.env, record.egress.upstreamCa)
        : undefined;
    if (tls) Object.assign(spec, placeSessionCa(spec, tls.bundle));
    if (remoteEgress && record.engine !== undefined)
      Object.assign(
        spec,
        await startRemoteWarmEgress(
          ctx,
          { ...record, engine: record.engine },
          name,
          remoteEgress,
          spec,
          ttlSeconds,
          remoteTls?.secrets,
        ),
      );
    const egress =
      record.egress && !remoteEgress ? startWarmEgress(ctx, record.egress, name, startEgress, tls?.secrets) : undefined;
    if (egress) spec.hooksDirs = [...(spec.hooksDirs ?? []), egress.hooksDir];
    let id: string;
    try {
      // The bundle secret removed behind mino's back: made again, and the start tried once more.
      id = await startWarmContainer(ctx.runtime, spec).catch(async (err: unknown) => {
        if (!(await bundle?.repair())) throw err;
        return startWarmContainer(ctx.runtime, spec);
      });
      egress?.started();
    } catch (err) {
      removeAgentDir(ctx.stateDir, name);
      if (remoteEgress) await removeRemoteWarmEgress(ctx, name).catch(() => undefined);
      if (record.branch) removeWarmCopy(record.branch.dir, name);
      throw egress ? await egress.failed(err) : err;
    }
    const entry: WarmEntry = {
      name: spec.name as string,
      id,
      image_id: imageId,
      verified_at: image.verifiedAt,
      expires_at: Math.floor(begin / 1000) + ttlSeconds,
      created_at: begin,
    };
    addWarmEntry(ctx.stateDir, record.key, entry);
    started++;
    countCreated(ctx.stateDir, Date.now() - begin);
  }
  // A remote pool's warm sync helper (its runs' shipments and return trips exec into it).
  if (live.length + started > 0) await ensureSyncHelper(ctx, record, ttlSeconds);
  return { warm: live.length + started, started, replaced: stale.length, cappedByMax: count < wanted };
}

/**
 * Checks with one `podman ps` that the warm containers of `key` are running; entries whose
 * container is gone are dropped. Returns the names that were gone.
 */
export async function dropVanished(ctx: SessionContext, key: string): Promise<string[]> {
  const running = new Set(
    (await ctx.runtime.listContainers({ [LABEL_POOL]: key, [LABEL_STATE]: ctx.stateKey }))
      .filter((c) => c.state === 'running')
      .map((c) => c.name),
  );
  const gone: string[] = [];
  for (const e of warmEntries(ctx.stateDir, key, Math.floor(Date.now() / 1000))) {
    if (running.has(e.name)) continue;
    removeWarmEntry(ctx.stateDir, key, e.name);
    removeAgentDir(ctx.stateDir, e.name);
    gone.push(e.name);
  }
  return gone;
}
