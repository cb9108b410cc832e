import * as z from 'zod/mini';
import { MinoError } from '../common/errors.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { lastLines } from '../runtime/podman/podman-error.js';

/**
 * Every local image with its size and labels, from one `podman images --format json` (run through
 * `runtime.hostExec`, so it reaches the same engine). Podman 4.3 prints an image once per name;
 * entries are merged by ID here.
 */

/** One local image. */
export interface LocalImage {
  /** Full 64-hex ID. */
  id: string;
  /** `repository:tag` names (empty for dangling images). */
  names: string[];
  /** Bytes, including the layers it shares with its base. */
  sizeBytes: number;
  labels: Record<string, string>;
  /** Containers (running or not) using it, as podman counts them. */
  containers: number;
  /** Seconds since the epoch. */
  created: number;
}

const ImageJson = z.object({
  Id: z.string(),
  Names: z.optional(z.nullable(z.array(z.string()))),
  Size: z.optional(z.number()),
  Labels: z.optional(z.nullable(z.record(z.string(), z.string()))),
  Containers: z.optional(z.number()),
  Created: z.optional(z.number()),
});

/** Parses `podman images --format json`, merging entries of one ID. */
export function parseImageList(text: string): LocalImage[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? 'null' : text);
  } catch (err) {
    throw new MinoError('Podman returned invalid JSON for the image list', { cause: err, hint: 'Run with -vv to see podman output' });
  }
  const parsed = z.nullable(z.array(ImageJson)).safeParse(raw);
  if (!parsed.success) throw new MinoError('Unexpected podman output for the image list', { hint: 'This podman version may be unsupported; run `mino status`' });
  const byId = new Map<string, LocalImage>();
  for (const img of parsed.data ?? []) {
    const seen = byId.get(img.Id);
    if (seen) {
      for (const n of img.Names ?? []) if (!seen.names.includes(n)) seen.names.push(n);
      continue;
    }
    byId.set(img.Id, {
      id: img.Id,
      names: [...new Set(img.Names ?? [])],
      sizeBytes: img.Size ?? 0,
      labels: img.Labels ?? {},
      containers: img.Containers ?? 0,
      created: img.Created ?? 0,
    });
  }
  return [...byId.values()];
}

/** Lists the local images (one podman call). */
export async function listImages(runtime: ContainerRuntime): Promise<LocalImage[]> {
  const r = await runtime.hostExec(['podman', 'images', '--format', 'json']);
  if (r.exitCode !== 0) throw new MinoError(`podman images failed: ${lastLines(r.stderr, 3)}`, { hint: "Check the engine with 'mino status'" });
  return parseImageList(r.stdout);
}
