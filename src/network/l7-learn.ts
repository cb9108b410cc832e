import type { RequestEntry } from './network-record.js';

/**
 * What `--network learn` proposes for destinations whose requests the proxy saw (plain HTTP,
 * terminated TLS): the narrowest HTTPS rules on method and path that let the same requests
 * through again. One rule per path with the methods it was used with; a destination with more
 * than {@link MAX_PATHS} paths gets them folded into their parent directories (`/a/b/*`) until
 * they fit.
 */

/** Rules per destination before paths are folded into their directories. */
const MAX_PATHS = 20;

/** Characters a path may keep in a rule (see l7-rule.ts); from the first other one on, `*`. */
const KEEP = /^[A-Za-z0-9\-._~!$&'()*+;=:@/%]*/;

function patternOf(path: string): string {
  const kept = KEEP.exec(path)![0];
  if (kept === path && !path.split('/').some((s) => s === '.' || s === '..')) return path;
  const safe = kept
    .split('/')
    .filter((s) => s !== '.' && s !== '..')
    .join('/');
  return `${safe.endsWith('*') ? safe : `${safe}*`}`;
}

function parent(pattern: string): string {
  const base = pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern;
  const slash = base.lastIndexOf('/');
  return slash <= 0 ? '/*' : `${base.slice(0, slash)}/*`;
}

function hostOf(destination: string): string {
  return destination.endsWith(':443') ? destination.slice(0, -4) : destination;
}

/** The proposed rules for requests seen (allowed ones only), sorted by destination and path. */
export function learnedL7Rules(requests: readonly RequestEntry[]): string[] {
  const byDest = new Map<string, Map<string, Set<string>>>();
  for (const r of requests) {
    if (r.allowed === 0) continue;
    let paths = byDest.get(r.destination);
    if (!paths) {
      paths = new Map();
      byDest.set(r.destination, paths);
    }
    const pattern = patternOf(r.path);
    if (!paths.has(pattern)) paths.set(pattern, new Set());
    paths.get(pattern)!.add(r.method);
  }
  const out: string[] = [];
  for (const [destination, found] of [...byDest].sort(([a], [b]) => a.localeCompare(b))) {
    let paths = found;
    while (paths.size > MAX_PATHS) {
      const folded = new Map<string, Set<string>>();
      for (const [p, methods] of paths) {
        const up = parent(p);
        folded.set(up, new Set([...(folded.get(up) ?? []), ...methods]));
      }
      const stuck = [...folded.keys()].every((k) => paths.has(k));
      paths = folded;
      if (stuck) break;
    }
    for (const [p, methods] of [...paths].sort(([a], [b]) => a.localeCompare(b)))
      out.push(`${[...methods].sort().join(',')} ${hostOf(destination)}${p}`);
  }
  return out;
}
