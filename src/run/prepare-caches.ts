import { randomBytes } from 'node:crypto';
import { decideCacheMounts, type CacheMount, type CacheOptions } from '../cache/cache-mounts.js';
import { CacheStore } from '../cache/cache-store.js';
import { CACHE_VOLUME_PREFIX, cacheVolumeLabels } from '../cache/cache-volume.js';
import { detectLockfiles, type SkippedLockfile } from '../cache/lockfiles.js';
import { InUseError } from '../runtime/runtime-errors.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The dependency-cache steps of `mino run`:
 * 1. {@link resolveCacheMounts} before planning: lockfiles in the project root, their sidecars
 *    and one `volume ls` decide the mounts (a project without lockfiles costs a few failed opens
 *    and no podman call);
 * 2. {@link prepareCaches} after planning: creates the volumes of caches seen for the first time
 *    (one `volume create` each, concurrently; later runs create nothing), records the use, and
 *    after `--cache-fresh` removes the replaced volume when nothing uses it;
 * 3. {@link finalizeCaches} when the command exited 0 (attached runs at once, detached ones when
 *    reconciliation finds their container stopped): `building` caches become `complete`.
 */

/**
 * The cache mounts for a run of `projectDir`: empty (and no podman call) when caching is off or no
 * lockfile exists; otherwise one `volume ls`, so a cache whose volume was removed behind mino's
 * back starts over instead of being mounted empty and read-only. A lockfile that is a symbolic
 * link, a FIFO, a device or over 64 MiB gives its ecosystem no cache: one warning each through
 * `say`, and the run goes on.
 */
export async function resolveCacheMounts(
  ctx: Pick<SessionContext, 'stateDir' | 'runtime'>,
  projectDir: string,
  options: CacheOptions,
  say: (line: string) => void = () => undefined,
): Promise<CacheMount[]> {
  if (!options.enabled) return [];
  const skipped: SkippedLockfile[] = [];
  const lockfiles = detectLockfiles(projectDir, undefined, skipped);
  for (const s of skipped) {
    say(
      `Warning: ${s.file} ${s.why}; mino reads only regular project files of bounded size, so ${s.ecosystem} gets no dependency cache this run`,
    );
  }
  if (lockfiles.length === 0) return [];
  const store = new CacheStore(ctx.stateDir);
  const existing = new Set((await ctx.runtime.volumeList(CACHE_VOLUME_PREFIX)).map((v) => v.name));
  return decideCacheMounts(
    lockfiles,
    (canonical) => store.get(canonical),
    (v) => existing.has(v),
    options,
    () => randomBytes(3).toString('hex'),
  );
}

/** Creates missing cache volumes, records their use, and removes volumes replaced by `--cache-fresh`. */
export async function prepareCaches(
  ctx: SessionContext,
  caches: readonly CacheMount[],
  say: (message: string) => void,
  now = new Date(),
): Promise<void> {
  if (caches.length === 0) return;
  const store = new CacheStore(ctx.stateDir);
  await Promise.all(
    caches
      .filter((c) => c.create)
      .map((c) => ctx.runtime.volumeCreate(c.volume, cacheVolumeLabels(c.ecosystem, c.hash, now))),
  );
  for (const c of caches) store.use(c.volume, now);
  for (const c of caches) {
    if (c.replaces === undefined || c.replaces === c.volume) continue;
    try {
      await ctx.runtime.volumeRemove(c.replaces, { force: false });
      say(`Started an empty ${c.ecosystem} cache; removed the old one (${c.replaces})`);
    } catch (err) {
      if (!(err instanceof InUseError)) throw err;
      say(
        `Started an empty ${c.ecosystem} cache; the old one (${c.replaces}) is still used by a container and stays until 'mino cache gc'`,
      );
    }
  }
}
