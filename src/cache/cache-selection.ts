import type { CacheItem, HomeItem, ImageItem, InUse, Inventory } from './cache-inventory.js';

/**
 * What `mino cache gc` and `mino cache clear` remove, decided without I/O so `--dry-run` shows
 * exactly what the real run removes. Safety rules, over mino 1.6:
 * - nothing a live container uses (cache labels, home-volume label, image) is ever selected;
 * - gc ages caches by last use (a sidecar's `last_used`), not by creation, and considers orphaned
 *   home volumes (project directory gone) on every run, not only when some cache is old;
 * - only mino's own volumes and images are candidates; no container is ever pruned.
 */

/** Anything `mino cache` may remove. */
export type CacheTarget = CacheItem | HomeItem | ImageItem;

/** A target with why it is removed, or why it is kept. */
export interface Decision {
  target: CacheTarget;
  reason: string;
}

/** The outcome of a selection. */
export interface Selection {
  remove: Decision[];
  /** Targets that would have been removed but are in use. */
  keep: Decision[];
}

/** The podman name of a target (volume or image reference). */
export function targetName(t: CacheTarget): string {
  return 'ref' in t ? t.ref : t.name;
}

function userOf(t: CacheTarget, inUse: InUse): string | undefined {
  if (!('ref' in t)) return inUse.volumes.get(t.name);
  return inUse.images.get(t.ref) ?? (t.containers > 0 ? `${t.containers} container(s)` : undefined);
}

function split(candidates: Decision[], inUse: InUse): Selection {
  const remove: Decision[] = [];
  const keep: Decision[] = [];
  for (const d of candidates) {
    const user = userOf(d.target, inUse);
    if (user === undefined) remove.push(d);
    else keep.push({ target: d.target, reason: `in use by ${user}` });
  }
  return { remove, keep };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a cache was last used (sidecar), else created; undefined when neither is known. */
export function lastActivity(c: CacheItem): number | undefined {
  for (const t of [c.lastUsed, c.createdAt]) {
    const ms = t === undefined ? Number.NaN : Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return undefined;
}

/** Options of {@link selectForGc}. */
export interface GcOptions {
  /** Remove caches unused for more than this many days; 0 = keep caches by age. */
  days: number;
  now: Date;
}

/**
 * gc: caches unused for more than `days` days (by last use), caches a `--cache-fresh` run
 * replaced, and home volumes whose project directory no longer exists.
 */
export function selectForGc(inv: Pick<Inventory, 'caches' | 'homes' | 'inUse'>, options: GcOptions): Selection {
  const candidates: Decision[] = [];
  const cutoff = options.now.getTime() - options.days * DAY_MS;
  for (const c of inv.caches) {
    if (c.superseded) {
      candidates.push({ target: c, reason: 'replaced by a --cache-fresh run' });
      continue;
    }
    const last = lastActivity(c);
    if (options.days > 0 && last !== undefined && last < cutoff) {
      candidates.push({ target: c, reason: `unused for ${Math.floor((options.now.getTime() - last) / DAY_MS)} days` });
    }
  }
  for (const h of inv.homes) {
    if (h.project !== undefined && h.projectExists === false)
      candidates.push({ target: h, reason: `project ${h.project} no longer exists` });
  }
  return split(candidates, inv.inUse);
}

/** What `mino cache clear` was asked to remove. */
export interface ClearScope {
  volumes: boolean;
  images: boolean;
  home: boolean;
}

/**
 * clear: every dependency cache (`volumes`), every home volume (`home`), and (`images`) every
 * composed image, egress proxy image and unused CA bundle secret plus the mino-base tags of older versions. The current base image stays: it
 * takes minutes to build again (remove it with podman rmi when you mean to).
 */
export function selectForClear(
  inv: Pick<Inventory, 'caches' | 'homes' | 'images' | 'inUse'>,
  scope: ClearScope,
): Selection {
  const candidates: Decision[] = [];
  if (scope.volumes) for (const c of inv.caches) candidates.push({ target: c, reason: 'dependency cache' });
  if (scope.home) for (const h of inv.homes) candidates.push({ target: h, reason: 'home volume' });
  if (scope.images) {
    for (const i of inv.images) {
      if (i.kind === 'composed') candidates.push({ target: i, reason: 'composed image' });
      else if (i.kind === 'egress')
        candidates.push({
          target: i,
          reason: "egress proxy image (a remote engine's next contained run makes it again)",
        });
      else if (i.kind === 'ca-bundle')
        candidates.push({
          target: i,
          reason: "CA bundle secret (the host's CAs; the next run that needs it makes it again)",
        });
      else if (i.stale) candidates.push({ target: i, reason: 'base image of an older mino version' });
    }
  }
  return split(candidates, inv.inUse);
}

/**
 * The order removals run in: composed images before base tags (a base with children cannot be
 * removed), volumes first of all.
 */
export function removalOrder(decisions: readonly Decision[]): Decision[] {
  const rank = (t: CacheTarget): number =>
    ({ cache: 0, home: 1, composed: 2, egress: 2, 'ca-bundle': 2, base: 3 })[t.kind];
  return [...decisions].sort((a, b) => rank(a.target) - rank(b.target));
}
