/**
 * Labels of a session container that name the dependency cache volumes it mounts, so `mino cache`
 * never removes a cache in use and reconciliation completes the caches of a finished run.
 */

/** Cache volumes a session mounts, comma-separated, so `mino cache` never removes them while it runs. */
export const LABEL_CACHES = 'io.mino.caches';
/** Cache volumes to mark complete when the session's command exits 0 (read by reconciliation). */
export const LABEL_CACHES_FINALIZE = 'io.mino.caches.finalize';

/** The cache labels of a session container; empty when it mounts no cache. */
export function cacheLabels(caches: ReadonlyArray<{ volume: string; finalize: boolean }>): Record<string, string> {
  const finalize = caches.filter((c) => c.finalize).map((c) => c.volume);
  return {
    ...(caches.length > 0 ? { [LABEL_CACHES]: caches.map((c) => c.volume).join(',') } : {}),
    ...(finalize.length > 0 ? { [LABEL_CACHES_FINALIZE]: finalize.join(',') } : {}),
  };
}

/** The volume names in a comma-separated label (`io.mino.caches` or `io.mino.caches.finalize`). */
export function listLabel(labels: Readonly<Record<string, string>>, key: string): string[] {
  return (labels[key] ?? '').split(',').filter((s) => s.length > 0);
}
