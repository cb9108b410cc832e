import type { ContainerSummary, LocalImage, VolumeInfo } from '../runtime/container-runtime.js';
import { HOME_VOLUME_PREFIX, LABEL_HOME_CREATED, LABEL_HOME_PROJECT } from '../volume/home-volume.js';
import { LABEL_HOME_VOLUME } from '../volume/volume-labels.js';
import { LABEL_SESSION } from '../session/session-labels.js';
import { LABEL_CACHES, listLabel } from './cache-labels.js';
import { LABEL_COMPOSED, LABEL_COMPOSED_BASE, LABEL_COMPOSED_LAYERS } from '../layer/compose-plan.js';
import { LABEL_EGRESS_IMAGE } from '../network/egress-image.js';
import type { CacheSidecar } from './cache-sidecar.js';
import { LABEL_CACHE_CREATED, parseCacheVolumeName } from './cache-volume.js';

/**
 * What `mino cache` works on, put together from podman's answers and mino's files without I/O:
 * dependency caches (volume + sidecar), home volumes (volume + label or marker), composed images
 * and mino-base tags, and what running sessions use (never removed).
 */

/** A dependency cache volume. */
export interface CacheItem {
  kind: 'cache';
  /** Podman volume name. */
  name: string;
  ecosystem: string;
  hash: string;
  /** From the sidecar; `unknown` when this state directory has none for the volume. */
  state: 'building' | 'complete' | 'unknown';
  sizeBytes: number | undefined;
  createdAt: string | undefined;
  /** Last run that mounted it (sidecar), else undefined. */
  lastUsed: string | undefined;
  /** A `--cache-fresh` run replaced it: no run mounts it any more. */
  superseded: boolean;
}

/** A per-project home volume. */
export interface HomeItem {
  kind: 'home';
  name: string;
  /** Project path (label, else mino's marker file); undefined when unknown. */
  project: string | undefined;
  /** Whether the project directory still exists (undefined when the project is unknown). */
  projectExists: boolean | undefined;
  sizeBytes: number | undefined;
  createdAt: string | undefined;
}

/**
 * A composed image, one mino-base tag, or the egress proxy image a remote engine's contained
 * runs use (`localhost/mino-egress:<hash>`, one per mino build, made again when missing); on a
 * remote engine also a CA bundle secret (`ca-bundle`: the host's CAs, one per content, made
 * again when missing; engine/engine-ca-secrets.ts), listed with mino's images, size 0.
 */
export interface ImageItem {
  kind: 'composed' | 'base' | 'egress' | 'ca-bundle';
  /** The name mino removes (`localhost/mino-composed-<hash>:latest`, `localhost/mino-base:<tag>`, …). */
  ref: string;
  id: string;
  /** Full size, including the base layers it shares. */
  sizeBytes: number;
  /** Size of its own layers: composed = size − its base's size; base = its size. */
  ownBytes: number;
  /** Composed: built on a base that is no longer mino-base:latest. Base: a tag of an older mino. Egress: never. */
  stale: boolean;
  /** Composed: its layers (`python@1,rust@1`). */
  layers?: string;
  /** Containers (running or not) podman counts on the image: podman refuses to remove it then. */
  containers: number;
}

/** Names of volumes and images that running (or starting) sessions use. */
export interface InUse {
  volumes: Map<string, string>;
  images: Map<string, string>;
}

/** Everything `mino cache` knows. */
export interface Inventory {
  caches: CacheItem[];
  homes: HomeItem[];
  images: ImageItem[];
  inUse: InUse;
  /** Sidecars whose volume is gone (podman volume removed behind mino's back). */
  orphanSidecars: CacheSidecar[];
}

/** Raw inputs of {@link buildInventory}. */
export interface InventoryInput {
  /** Podman volumes (at least every `mino-cache-*` and `mino-home-*`). */
  volumes: readonly VolumeInfo[];
  /** Bytes per volume name. */
  usage: ReadonlyMap<string, number>;
  sidecars: readonly CacheSidecar[];
  /** Home volume → project, from mino's marker files. */
  homeMarkers: ReadonlyMap<string, string>;
  /** Local images; undefined when images were not asked for. */
  images?: readonly LocalImage[];
  /** ID of `localhost/mino-base:latest`, when it exists. */
  baseLatestId?: string;
  /** `localhost/mino-base:<hash>` this mino version builds (never stale). */
  currentBaseTag?: string;
  /** All containers podman reports, after sessions were reconciled. */
  containers: readonly ContainerSummary[];
  /** Volumes starting sessions of this state directory are about to mount (session → volumes). */
  starting?: ReadonlyArray<{ session: string; volumes: readonly string[] }>;
  /** Whether a project directory exists. */
  projectExists: (path: string) => boolean;
  /** A remote engine's CA bundle secrets of this state (`inUseBy`: what uses one, if anything). */
  caBundles?: ReadonlyArray<{ name: string; id: string; inUseBy?: string }>;
}

const ENDED = new Set(['exited', 'stopped', 'removing']);

/** True for a container that is running, paused or about to start. */
function isLiveContainer(c: Pick<ContainerSummary, 'state'>): boolean {
  return !ENDED.has(c.state);
}

function bare(ref: string): string {
  return ref.startsWith('localhost/') ? ref : `localhost/${ref}`;
}

/**
 * What containers use: the cache and home volumes named in their labels, and their image. A
 * container that still exists protects them even when stopped (podman would refuse to remove the
 * volume or image anyway), so a dry run predicts the real run. Sessions of this state directory
 * that are starting (no container yet) protect the volumes they are about to mount.
 */
export function inUseBy(containers: readonly ContainerSummary[], starting: InventoryInput['starting'] = []): InUse {
  const volumes = new Map<string, string>();
  const images = new Map<string, string>();
  for (const c of containers) {
    const session = c.labels[LABEL_SESSION];
    const who = isLiveContainer(c)
      ? session
        ? `running session ${session}`
        : `running container ${c.name}`
      : `stopped container ${c.name}`;
    for (const v of listLabel(c.labels, LABEL_CACHES)) volumes.set(v, who);
    const home = c.labels[LABEL_HOME_VOLUME];
    if (home) volumes.set(home, who);
    if (c.image) images.set(bare(c.image), who);
  }
  for (const s of starting)
    for (const v of s.volumes) if (!volumes.has(v)) volumes.set(v, `session ${s.session} (starting)`);
  return { volumes, images };
}

function cacheItems(input: InventoryInput): { caches: CacheItem[]; orphanSidecars: CacheSidecar[] } {
  const byBase = new Map(input.sidecars.map((s) => [parseCacheVolumeName(s.volume_name)!.base, s]));
  const caches: CacheItem[] = [];
  const present = new Set<string>();
  for (const v of input.volumes) {
    const parsed = parseCacheVolumeName(v.name);
    if (!parsed) continue;
    present.add(v.name);
    const sidecar = byBase.get(parsed.base);
    const own = sidecar?.volume_name === v.name ? sidecar : undefined;
    caches.push({
      kind: 'cache',
      name: v.name,
      ecosystem: parsed.ecosystem,
      hash: parsed.hash,
      state: own?.state ?? 'unknown',
      sizeBytes: input.usage.get(v.name),
      createdAt: own?.created_at ?? v.labels[LABEL_CACHE_CREATED] ?? v.createdAt,
      lastUsed: own?.last_used,
      superseded: sidecar !== undefined && own === undefined,
    });
  }
  const orphanSidecars = input.sidecars.filter((s) => !present.has(s.volume_name));
  return { caches: caches.sort((a, b) => a.name.localeCompare(b.name)), orphanSidecars };
}

function homeItems(input: InventoryInput): HomeItem[] {
  return input.volumes
    .filter((v) => v.name.startsWith(HOME_VOLUME_PREFIX))
    .map((v): HomeItem => {
      const project = v.labels[LABEL_HOME_PROJECT] || input.homeMarkers.get(v.name);
      return {
        kind: 'home',
        name: v.name,
        project,
        projectExists: project === undefined ? undefined : input.projectExists(project),
        sizeBytes: input.usage.get(v.name),
        createdAt: v.labels[LABEL_HOME_CREATED] ?? v.createdAt,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function imageItems(input: InventoryInput): ImageItem[] {
  const images = input.images ?? [];
  const byId = new Map(images.map((i) => [i.id, i]));
  const items: ImageItem[] = [];
  for (const img of images) {
    for (const raw of img.names) {
      const ref = bare(raw);
      if (/^localhost\/mino-composed-[0-9a-f]+:/.test(ref) && img.labels[LABEL_COMPOSED] === '1') {
        const baseId = (img.labels[LABEL_COMPOSED_BASE] ?? '').replace(/^sha256:/, '');
        const base = byId.get(baseId);
        items.push({
          kind: 'composed',
          ref,
          id: img.id,
          sizeBytes: img.sizeBytes,
          ownBytes: base ? Math.max(0, img.sizeBytes - base.sizeBytes) : img.sizeBytes,
          stale: input.baseLatestId !== undefined && baseId !== input.baseLatestId,
          layers: img.labels[LABEL_COMPOSED_LAYERS],
          containers: img.containers,
        });
      } else if (/^localhost\/mino-egress:[0-9a-f]{16}$/.test(ref) && img.labels[LABEL_EGRESS_IMAGE] === '1') {
        items.push({
          kind: 'egress',
          ref,
          id: img.id,
          sizeBytes: img.sizeBytes,
          ownBytes: img.sizeBytes,
          stale: false,
          containers: img.containers,
        });
      } else if (/^localhost\/mino-base:[0-9a-f]{12}$/.test(ref) || ref === 'localhost/mino-base:latest') {
        items.push({
          kind: 'base',
          ref,
          id: img.id,
          sizeBytes: img.sizeBytes,
          ownBytes: img.sizeBytes,
          // A tag is stale when `latest` exists and is another image: an older mino's base.
          stale:
            ref !== 'localhost/mino-base:latest' &&
            ref !== input.currentBaseTag &&
            input.baseLatestId !== undefined &&
            img.id !== input.baseLatestId,
          containers: img.containers,
        });
      }
    }
  }
  for (const b of input.caBundles ?? [])
    items.push({ kind: 'ca-bundle', ref: b.name, id: b.id, sizeBytes: 0, ownBytes: 0, stale: false, containers: 0 });
  const rank = { composed: 0, base: 1, egress: 2, 'ca-bundle': 3 };
  return items.sort((a, b) => rank[a.kind] - rank[b.kind] || a.ref.localeCompare(b.ref));
}

/** `inUse` with the CA bundle secrets that something uses (by name, with the images). */
function withBundlesInUse(inUse: InUse, bundles: InventoryInput['caBundles'] = []): InUse {
  for (const b of bundles) if (b.inUseBy !== undefined) inUse.images.set(b.name, b.inUseBy);
  return inUse;
}

/** Builds the inventory (pure). */
export function buildInventory(input: InventoryInput): Inventory {
  const { caches, orphanSidecars } = cacheItems(input);
  return {
    caches,
    homes: homeItems(input),
    images: imageItems(input),
    inUse: withBundlesInUse(inUseBy(input.containers, input.starting), input.caBundles),
    orphanSidecars,
  };
}

/** Bytes the budget (`cache.max_total_gb`) counts: dependency caches and composed images' own layers. */
export function budgetedBytes(inv: Pick<Inventory, 'caches' | 'images'>): number {
  const caches = inv.caches.reduce((n, c) => n + (c.sizeBytes ?? 0), 0);
  const seen = new Set<string>();
  let images = 0;
  for (const i of inv.images) {
    if (i.kind !== 'composed' || seen.has(i.id)) continue;
    seen.add(i.id);
    images += i.ownBytes;
  }
  return caches + images;
}
