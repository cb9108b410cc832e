/** Hard resource limits of a process, from /proc/<pid>/limits. */
export interface HardLimits {
  /** Hard RLIMIT_NOFILE, or undefined when unlimited/unknown. */
  nofile: number | undefined;
  /** Hard RLIMIT_NPROC, or undefined when unlimited/unknown. */
  nproc: number | undefined;
}

function hardOf(text: string, label: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(label));
  if (!line) return undefined;
  const fields = line.slice(label.length).trim().split(/\s+/);
  const hard = fields[1];
  return hard === undefined || hard === 'unlimited' ? undefined : Number.parseInt(hard, 10);
}

/** Parses the text of /proc/self/limits. */
export function parseLimits(text: string): HardLimits {
  return { nofile: hardOf(text, 'Max open files'), nproc: hardOf(text, 'Max processes') };
}

/** Podman's own defaults for rootful containers; never ask for more than these. */
const PODMAN_DEFAULT: Record<keyof HardLimits, number> = { nofile: 1048576, nproc: 4194304 };
/** Smaller values to fall back to, largest first, when the hard limit itself is refused. */
const FALLBACKS = [65536, 32768, 16384, 4096];

/**
 * Values to try for one limit, largest first: the host's hard limit (capped at podman's
 * default), then common smaller values below it. Some hosts refuse even their own hard limit
 * (a kernel or sandbox clamps it further), so the caller probes each in turn.
 */
export function ulimitCandidates(limits: HardLimits, name: keyof HardLimits): number[] {
  const top = Math.min(limits[name] ?? PODMAN_DEFAULT[name], PODMAN_DEFAULT[name]);
  return [...new Set([top, ...FALLBACKS.filter((n) => n < top)])];
}
