import { budgetedBytes, type Inventory } from './cache-inventory.js';
import { lastActivity, type Decision } from './cache-selection.js';

/**
 * The disk budget (`cache.max_total_gb`) over dependency caches and composed images: when their
 * total passes the limit, what to evict, in this order, until the total is under it again:
 * composed images built on an older base (no run uses them again), then complete caches from the
 * least recently used, then the other composed images (a later run rebuilds them). Nothing a
 * container uses, and no cache still being built, is evicted.
 */
export function selectForBudget(inv: Pick<Inventory, 'caches' | 'images' | 'inUse'>, limitBytes: number): Decision[] {
  const total = budgetedBytes(inv);
  if (limitBytes <= 0 || total <= limitBytes) return [];
  const freeImage = (i: Inventory['images'][number]): boolean =>
    i.kind === 'composed' && i.containers === 0 && !inv.inUse.images.has(i.ref);
  const candidates: Decision[] = [
    ...inv.images
      .filter((i) => freeImage(i) && i.stale)
      .map((i) => ({ target: i, reason: 'composed image on an older base' })),
    ...inv.caches
      .filter((c) => (c.state === 'complete' || c.superseded) && !inv.inUse.volumes.has(c.name))
      .sort((a, b) => (lastActivity(a) ?? 0) - (lastActivity(b) ?? 0))
      .map((c) => ({ target: c, reason: 'least recently used cache' })),
    ...inv.images.filter((i) => freeImage(i) && !i.stale).map((i) => ({ target: i, reason: 'unused composed image' })),
  ];
  const chosen: Decision[] = [];
  let remaining = total;
  const seenImages = new Set<string>();
  for (const d of candidates) {
    if (remaining <= limitBytes) break;
    chosen.push(d);
    const t = d.target;
    if ('ref' in t) {
      if (!seenImages.has(t.id)) remaining -= t.ownBytes;
      seenImages.add(t.id);
    } else remaining -= t.sizeBytes ?? 0;
  }
  return chosen;
}
