import type { LocalImage, StoreInventory, VolumeInfo } from '../runtime/container-runtime.js';

/**
 * What to do about a rootless podman store on the `vfs` driver (every image layer a full copy:
 * slow builds, multiplied disk use). Pure decisions on facts gathered elsewhere.
 */

/**
 * What a store holds, as far as the decision needs it: a {@link StoreInventory} of the runtime
 * is one.
 */
export interface StoreContents {
  images: ReadonlyArray<Pick<LocalImage, 'id' | 'names' | 'labels'>>;
  /** Container names (build containers included). */
  containers: readonly string[];
  volumes: ReadonlyArray<Pick<VolumeInfo, 'name' | 'labels'>>;
  secrets: readonly string[];
  /** Network names; podman's default `podman` is not the user's and is skipped. */
  networks: readonly string[];
}

/** An inventory split into what mino can recreate and what would be lost. */
export interface InventorySplit {
  /** Objects mino recreates on demand (its images, dependency caches). */
  rebuildable: string[];
  /** Objects of the user's own (or mino state that cannot be recreated, such as agent homes). */
  foreign: string[];
}

/** Images mino builds or pulls itself: probe, base, debootstrap parent, composed layers. */
const MINO_IMAGE = /^localhost\/mino-(?:probe|base|debian):[^:]+$|^localhost\/mino-composed-[^:/]+:[^:]+$/;
/** Labels that only mino's own image builds set. */
const MINO_IMAGE_LABELS = ['io.mino.image', 'io.mino.composed', 'io.mino.probe'];

/** `debian` → `docker.io/library/debian:latest`, the way podman names pulled images. */
export function normalizeImageRef(ref: string): string {
  let name = ref;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) name = `docker.io/library/${name}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') name = `docker.io/${name}`;
  const lastSlash = name.lastIndexOf('/');
  if (!name.slice(lastSlash).includes(':') && !name.includes('@')) name = `${name}:latest`;
  return name;
}

/** True for an image name mino can recreate (its own images, and the parent mino-base pulls). */
export function isRebuildableImage(name: string, baseFrom: string | undefined): boolean {
  if (MINO_IMAGE.test(name)) return true;
  return baseFrom !== undefined && normalizeImageRef(name) === normalizeImageRef(baseFrom);
}

/**
 * Splits a store into what mino can recreate and what would be lost by a reset. Only mino's
 * images, its parent image, `mino-cache-*` dependency caches and left-over `mino-*` secrets
 * count as recreatable; every container, every other image or volume (agent home volumes
 * `mino-home-*` and named volumes `mino-vol-*` included: they hold state) and every custom
 * network is the user's.
 */
export function splitInventory(inventory: StoreContents, baseFrom: string | undefined): InventorySplit {
  const rebuildable: string[] = [];
  const foreign: string[] = [];
  const seen = new Set<string>();
  for (const image of inventory.images) {
    // `podman images` lists an image once per tag, each entry with all its names.
    if (seen.has(image.id)) continue;
    seen.add(image.id);
    if (image.names.length === 0) {
      const mino = MINO_IMAGE_LABELS.some((l) => l in image.labels) && !('io.mino.test' in image.labels);
      (mino ? rebuildable : foreign).push(`image ${image.id.slice(0, 12)} (untagged)`);
      continue;
    }
    for (const name of image.names) {
      (isRebuildableImage(name, baseFrom) ? rebuildable : foreign).push(`image ${name}`);
    }
  }
  for (const name of inventory.containers) foreign.push(`container ${name}`);
  for (const volume of inventory.volumes) {
    const cache = volume.name.startsWith('mino-cache-') && 'io.mino.cache' in volume.labels;
    (cache ? rebuildable : foreign).push(`volume ${volume.name}`);
  }
  for (const name of inventory.secrets) {
    (name.startsWith('mino-') && !name.startsWith('mino-test-') ? rebuildable : foreign).push(`secret ${name}`);
  }
  for (const name of inventory.networks) if (name !== 'podman') foreign.push(`network ${name}`);
  return { rebuildable, foreign };
}

/** Facts about the store of the user who runs podman. */
export interface StorageFacts {
  rootless: boolean;
  /** No graph root yet: the next podman call creates the store with whatever driver it picks. */
  fresh: boolean;
  /** Driver of the existing store (undefined when fresh). */
  driver: string | undefined;
  /** A driver set in a storage.conf or $STORAGE_DRIVER: the user chose it, mino leaves it. */
  explicit: { driver: string; source: string } | undefined;
  /** Whether native overlay works for this user ('unknown' until probed). */
  overlay: 'works' | 'fails' | 'unknown';
  /** What a reset would remove (undefined until listed). */
  inventory: InventorySplit | undefined;
}

/** What the storage check does. */
export type StorageAction =
  /** Nothing to do: rootful, or already on a copy-on-write driver. */
  | { kind: 'ok' }
  /** A driver was chosen in a config file or the environment: report it, change nothing. */
  | { kind: 'explicit'; driver: string; source: string }
  /** More facts are needed: probe overlay in a scratch store. */
  | { kind: 'probe' }
  /** More facts are needed: list what the store holds. */
  | { kind: 'inventory' }
  /** Overlay does not work for this user: vfs is the only choice. */
  | { kind: 'vfs-only' }
  /** No store yet and overlay works: write `driver = "overlay"` before podman creates it. */
  | { kind: 'configure' }
  /** vfs store holding only what mino recreates: write the driver, then `podman system reset`. */
  | { kind: 'switch'; rebuildable: string[] }
  /** vfs store with the user's own objects: never reset; tell the user how to do it. */
  | { kind: 'keep'; foreign: string[] };

/** Decides what to do about the store, or which fact to gather next. */
export function decideStorage(facts: StorageFacts): StorageAction {
  if (!facts.rootless) return { kind: 'ok' };
  if (facts.explicit?.driver === 'vfs') return { kind: 'explicit', ...facts.explicit };
  // Another driver set explicitly: fine for a new store. An existing store keeps the driver in
  // its database (podman then logs "User-selected graph driver overwritten"), so a vfs store is
  // handled below whatever the files say.
  if (facts.fresh && facts.explicit) return { kind: 'ok' };
  if (!facts.fresh && facts.driver !== 'vfs') return { kind: 'ok' };
  if (facts.overlay === 'unknown') return { kind: 'probe' };
  if (facts.overlay === 'fails') return { kind: 'vfs-only' };
  if (facts.fresh) return { kind: 'configure' };
  if (!facts.inventory) return { kind: 'inventory' };
  if (facts.inventory.foreign.length > 0) return { kind: 'keep', foreign: facts.inventory.foreign };
  return { kind: 'switch', rebuildable: facts.inventory.rebuildable };
}
