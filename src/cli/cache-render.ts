import type { GatheredInventory } from '../resources/manage-caches.js';
import type { InUse } from '../cache/cache-inventory.js';
import type { Palette } from '../common/terminal.js';
import { formatSize } from '../volume/parse-size.js';

/** Rendering of `mino cache list`: tables for people, JSON for scripts. */

function when(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function size(n: number | undefined): string {
  return n === undefined ? '-' : formatSize(n);
}

function grid(head: string[], rows: string[][], p: Palette): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [p.bold(line(head)), ...rows.map(line)];
}

/** `Total: 1.2GB / 50.0GB (2%) of the budget` (or without a limit). */
export function totalLine(totalBytes: number, limitBytes: number): string {
  if (limitBytes <= 0) return `Total: ${formatSize(totalBytes)} (dependency caches and composed images; no limit set)`;
  const pct = Math.round((totalBytes / limitBytes) * 100);
  return `Total: ${formatSize(totalBytes)} / ${formatSize(limitBytes)} (${pct}%) for dependency caches and composed images (cache.max_total_gb)`;
}

function usedBy(inUse: InUse, name: string): string | null {
  return inUse.volumes.get(name) ?? null;
}

/** The three tables and the total. */
export function cacheTables(inv: GatheredInventory, p: Palette): string {
  const out: string[] = [];
  if (inv.caches.length === 0) out.push(p.dim('No dependency caches (a run of a project with a lockfile creates one)'));
  else {
    out.push(
      ...grid(
        ['CACHE VOLUME', 'ECOSYSTEM', 'STATE', 'SIZE', 'LAST USED', 'CREATED'],
        inv.caches.map((c) => [
          c.name,
          c.ecosystem,
          (c.superseded ? 'replaced' : c.state) + (usedBy(inv.inUse, c.name) ? ' (in use)' : ''),
          size(c.sizeBytes),
          when(c.lastUsed),
          when(c.createdAt),
        ]),
        p,
      ),
    );
    out.push(`${inv.caches.length} cache(s)`);
  }
  out.push('');
  if (inv.homes.length === 0) out.push(p.dim('No home volumes'));
  else {
    out.push(
      ...grid(
        ['HOME VOLUME', 'SIZE', 'CREATED', 'PROJECT'],
        inv.homes.map((h) => [
          h.name,
          size(h.sizeBytes),
          when(h.createdAt),
          `${h.project ?? '?'}${h.projectExists === false ? ' (gone)' : ''}${usedBy(inv.inUse, h.name) ? ' (in use)' : ''}`,
        ]),
        p,
      ),
    );
    const gone = inv.homes.filter((h) => h.projectExists === false).length;
    if (gone > 0)
      out.push(p.yellow(`${gone} home volume(s) of projects that no longer exist: mino cache gc removes them`));
  }
  out.push('');
  if (inv.images.length === 0) out.push(p.dim('No mino images'));
  else {
    out.push(
      ...grid(
        ['IMAGE', 'KIND', 'SIZE', 'OWN', 'NOTE'],
        inv.images.map((i) => [
          i.ref,
          i.kind,
          formatSize(i.sizeBytes),
          formatSize(i.ownBytes),
          [
            i.layers,
            i.stale ? (i.kind === 'base' ? 'older mino version' : 'built on an older base') : '',
            inv.inUse.images.get(i.ref) ? 'in use' : '',
          ]
            .filter(Boolean)
            .join('; '),
        ]),
        p,
      ),
    );
    const stale = inv.images.filter((i) => i.stale).length;
    if (stale > 0) out.push(p.yellow(`${stale} stale image(s): mino cache clear --images removes them`));
  }
  out.push('');
  const line = totalLine(inv.totalBytes, inv.limitBytes);
  const over = inv.limitBytes > 0 && inv.totalBytes >= inv.limitBytes * 0.8;
  out.push(over ? p.yellow(`${line}. Consider: mino cache gc`) : line);
  return `${out.join('\n')}\n`;
}

/** The JSON document of `cache list -f json` (a superset of mino 1.6's). */
export function inventoryJson(inv: GatheredInventory): Record<string, unknown> {
  return {
    caches: inv.caches.map((c) => ({
      name: c.name,
      ecosystem: c.ecosystem,
      hash: c.hash,
      state: c.superseded ? 'replaced' : c.state,
      size_bytes: c.sizeBytes ?? null,
      created_at: c.createdAt ?? null,
      last_used: c.lastUsed ?? null,
      in_use_by: usedBy(inv.inUse, c.name),
    })),
    home_volumes: inv.homes.map((h) => ({
      name: h.name,
      project_path: h.project ?? null,
      project_exists: h.projectExists ?? null,
      size_bytes: h.sizeBytes ?? null,
      created_at: h.createdAt ?? null,
      in_use_by: usedBy(inv.inUse, h.name),
    })),
    images: inv.images.map((i) => ({
      name: i.ref,
      kind: i.kind,
      id: i.id,
      size_bytes: i.sizeBytes,
      own_bytes: i.ownBytes,
      stale: i.stale,
      layers: i.layers ?? null,
      in_use_by: inv.inUse.images.get(i.ref) ?? null,
    })),
    total_size_bytes: inv.totalBytes,
    limit_bytes: inv.limitBytes,
    usage_percent: inv.limitBytes > 0 ? Math.round((inv.totalBytes / inv.limitBytes) * 1000) / 10 : null,
  };
}
