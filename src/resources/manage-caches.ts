import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { LABEL_ENGINE } from '../session/session-labels.js';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { budgetedBytes, buildInventory, type Inventory } from '../cache/cache-inventory.js';
import { removalOrder, targetName, type Decision } from '../cache/cache-selection.js';
import { CacheStore } from '../cache/cache-store.js';
import { CACHE_VOLUME_PREFIX, cacheVolumeName } from '../cache/cache-volume.js';
import { detectLockfiles } from '../cache/lockfiles.js';
import { BASE_IMAGE_LATEST, baseImageTag } from '../image/base-image-tag.js';
import { hashDirectory } from '../image/content-hash.js';
import { forgetComposed } from '../image/image-index.js';
import { builtinLayersDir } from '../image/layers-dir.js';
import { InUseError } from '../runtime/runtime-errors.js';
import { isActive, type SessionRecord } from '../session/session-record.js';
import { HOME_VOLUME_PREFIX, homeVolumeName } from '../volume/home-volume.js';
import { homeVolumeMarkerPath } from '../volume/home-volume-marker.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';
import { caBundlesOnEngine, removeCaBundle } from './remote-ca-bundles.js';
import { removePersistentHelpers } from '../sync/persistent-helper.js';

/**
 * Gathering and removing for `mino cache`: sessions are reconciled with podman first (so a
 * finished detached session completes its caches and stops counting as a user), then podman is
 * asked three things at once: the volumes (`volume ls`), the images (`images --format json`),
 * and the size of every cache and home volume (one `du` over all their mount points;
 * `podman system df -v --format json` of podman 4.3 ignores --format and prints rounded text).
 */

/** The inventory plus what reading it turned up. */
export interface GatheredInventory extends Inventory {
  warnings: string[];
  /** Bytes the budget counts (caches + composed images' own layers). */
  totalBytes: number;
  /** `cache.max_total_gb` in bytes; 0 = no limit. */
  limitBytes: number;
}

function homeMarkers(stateDir: string): Map<string, string> {
  const markers = new Map<string, string>();
  const dir = join(stateDir, 'home-volumes');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return markers;
  }
  for (const name of names) {
    if (!name.startsWith(HOME_VOLUME_PREFIX)) continue;
    try {
      const project = readFileSync(join(dir, name), 'utf8').trim();
      if (project.startsWith('/')) markers.set(name, project);
    } catch {
      // An unreadable marker only loses the project path.
    }
  }
  return markers;
}

function currentBaseTag(): string | undefined {
  try {
    return baseImageTag(hashDirectory(join(builtinLayersDir(), 'base')));
  } catch {
    return undefined;
  }
}

/** The cache volumes a project's run would mount (canonical names and the sidecars' current ones). */
function projectCacheVolumes(store: CacheStore, projectDir: string): string[] {
  const names = new Set<string>();
  for (const l of detectLockfiles(projectDir)) {
    const canonical = cacheVolumeName(l.ecosystem, l.hash);
    names.add(canonical);
    const current = store.get(canonical)?.volume_name;
    if (current) names.add(current);
  }
  return [...names];
}

/**
 * Volumes this state directory's active sessions mount or are about to mount: a run records its
 * session before its container exists, so labels alone would miss it for a moment.
 */
function startingVolumes(
  store: CacheStore,
  sessions: readonly SessionRecord[],
): Array<{ session: string; volumes: string[] }> {
  return sessions.filter(isActive).map((s) => ({
    session: s.name,
    volumes: [...(s.home_volume ? [s.home_volume] : []), ...projectCacheVolumes(store, s.project_dir)],
  }));
}

/**
 * Everything `mino cache` shows and may remove, with sizes. `images: false` skips the image
 * list (cache gc never removes images).
 */
export async function gatherInventory(
  ctx: SessionContext,
  options: { images: boolean; limitGb: number },
): Promise<GatheredInventory> {
  const store = new CacheStore(ctx.stateDir);
  const [reconciled, volumes, images, caBundles] = await Promise.all([
    reconcileSessions(ctx),
    ctx.runtime.volumeList('mino-'),
    options.images ? ctx.runtime.imageList() : Promise.resolve(undefined),
    // On another engine: the host CA bundle secrets there too (remote-ca-bundles.ts).
    options.images && ctx.engine !== undefined ? caBundlesOnEngine(ctx, ctx.engine) : Promise.resolve(undefined),
  ]);
  const ours = volumes.filter((v) => v.name.startsWith(CACHE_VOLUME_PREFIX) || v.name.startsWith(HOME_VOLUME_PREFIX));
  const warnings = [...reconciled.warnings];
  const usage = await ctx.runtime.volumeDiskUsage('mino-', ours).catch((err: unknown) => {
    warnings.push(`Could not measure volume sizes: ${errorMessage(err)}`);
    return new Map<string, number>();
  });
  const { sidecars, warnings: sidecarWarnings } = store.list();
  warnings.push(...sidecarWarnings);
  const latest = images?.find((i) =>
    i.names.some((n) => n === BASE_IMAGE_LATEST || `localhost/${n}` === BASE_IMAGE_LATEST),
  );
  const inv = buildInventory({
    volumes: ours,
    usage,
    sidecars,
    homeMarkers: homeMarkers(ctx.stateDir),
    images,
    baseLatestId: latest?.id,
    currentBaseTag: currentBaseTag(),
    // Only this engine's: volumes on two engines share names (keyed the same way).
    containers: reconciled.containers.filter((c) => c.labels[LABEL_ENGINE] === ctx.engine),
    starting: startingVolumes(
      store,
      reconciled.sessions.filter((s) => s.engine === ctx.engine),
    ),
    projectExists: (p) => existsSync(p),
    ...(caBundles ? { caBundles } : {}),
  });
  const limitBytes = Math.max(0, options.limitGb) * 1024 ** 3;
  // Cache records describe this machine's volumes too: one missing on another engine is no orphan.
  if (ctx.engine !== undefined) inv.orphanSidecars = [];
  return { ...inv, warnings, totalBytes: budgetedBytes(inv), limitBytes };
}

/** One removal's outcome. */
export interface Removal {
  decision: Decision;
  /** Removed; false: podman refused (e.g. a container it did not report uses it). */
  removed: boolean;
  error?: string;
}

/**
 * Removes the decided targets in a safe order, never forcing: podman refuses a volume or image
 * a container uses, and that refusal is reported, not overridden. Removing a cache drops its
 * sidecar, a home volume its marker, a composed image its entry in the image index; each
 * removal is written to the audit log (`cache.removed`).
 */
export async function removeTargets(ctx: SessionContext, decisions: readonly Decision[]): Promise<Removal[]> {
  const store = new CacheStore(ctx.stateDir);
  const { dataDir } = minoPaths();
  const results: Removal[] = [];
  // On a remote engine the project copies' sync helpers run the sessions' images: they go first.
  if (ctx.engine !== undefined && decisions.some((d) => d.target.kind !== 'cache' && d.target.kind !== 'home'))
    await removePersistentHelpers(ctx.runtime, { stateKey: ctx.stateKey, stateDir: ctx.stateDir, engine: ctx.engine });
  for (const decision of removalOrder(decisions)) {
    const t = decision.target;
    try {
      if (t.kind === 'cache') {
        await ctx.runtime.volumeRemove(t.name, { force: false });
        store.forget(t.name);
      } else if (t.kind === 'home') {
        await ctx.runtime.volumeRemove(t.name, { force: false });
        rmSync(homeVolumeMarkerPath(ctx.stateDir, t.name), { force: true });
      } else if (t.kind === 'ca-bundle') {
        await removeCaBundle(ctx, t.ref);
      } else {
        await ctx.runtime.imageRemove(t.ref);
        if (t.kind === 'composed') forgetComposed(dataDir, t.ref);
      }
      ctx.audit.record('cache.removed', { kind: t.kind, name: targetName(t), reason: decision.reason });
      results.push({ decision, removed: true });
    } catch (err) {
      const why =
        err instanceof InUseError
          ? `still used by container(s) ${err.containerIds.join(', ') || '(unknown)'}`
          : errorMessage(err);
      results.push({ decision, removed: false, error: why });
    }
  }
  return results;
}

/** Drops sidecars whose volume is gone (the next run starts that cache over). */
export function forgetOrphanSidecars(ctx: SessionContext, inv: Pick<Inventory, 'orphanSidecars'>): string[] {
  const store = new CacheStore(ctx.stateDir);
  for (const s of inv.orphanSidecars) store.forget(s.volume_name);
  return inv.orphanSidecars.map((s) => s.volume_name);
}

/** Bytes a set of decisions frees (image sizes count their own layers only). */
export function bytesOf(decisions: readonly Decision[]): number {
  return decisions.reduce((n, d) => n + ('ref' in d.target ? d.target.ownBytes : (d.target.sizeBytes ?? 0)), 0);
}

/** One ecosystem of a project, as `cache info` shows it. */
interface ProjectCache {
  ecosystem: string;
  lockfile: string;
  hash: string;
  volume: string;
  /** `miss` (created by the next run), `building` or `complete`. */
  state: 'miss' | 'building' | 'complete';
  sizeBytes: number | undefined;
}

/** What `cache info` shows for a project. */
export interface ProjectCacheInfo {
  projectDir: string;
  caches: ProjectCache[];
  home: { name: string; exists: boolean; sizeBytes: number | undefined };
  /** Bytes of this project's caches and home volume. */
  projectBytes: number;
  totalBytes: number;
  limitBytes: number;
  warnings: string[];
}

/** Lockfiles, caches and home volume of one project, with sizes and the global total. */
export async function projectCacheInfo(
  ctx: SessionContext,
  projectDir: string,
  limitGb: number,
): Promise<ProjectCacheInfo> {
  const inv = await gatherInventory(ctx, { images: true, limitGb });
  const store = new CacheStore(ctx.stateDir);
  const byName = new Map(inv.caches.map((c) => [c.name, c]));
  const caches = detectLockfiles(projectDir).map((l): ProjectCache => {
    const canonical = cacheVolumeName(l.ecosystem, l.hash);
    const sidecar = store.get(canonical);
    const volume = sidecar?.volume_name ?? canonical;
    const item = byName.get(volume);
    return {
      ecosystem: l.ecosystem,
      lockfile: l.file,
      hash: l.hash,
      volume,
      state: sidecar && item ? sidecar.state : 'miss',
      sizeBytes: item?.sizeBytes,
    };
  });
  const homeName = homeVolumeName(projectDir);
  const home = inv.homes.find((h) => h.name === homeName);
  const projectBytes = caches.reduce((n, c) => n + (c.sizeBytes ?? 0), 0) + (home?.sizeBytes ?? 0);
  return {
    projectDir,
    caches,
    home: { name: homeName, exists: home !== undefined, sizeBytes: home?.sizeBytes },
    projectBytes,
    totalBytes: inv.totalBytes,
    limitBytes: inv.limitBytes,
    warnings: inv.warnings,
  };
}
