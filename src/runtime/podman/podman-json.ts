import * as z from 'zod/mini';
import { MinoError } from '../../common/errors.js';
import type { ContainerState, ContainerSummary, RuntimeInfo, VolumeInfo } from '../container-runtime.js';

/**
 * Parsers for podman's `--format json` output. Podman's JSON is validated with zod so that a
 * different podman version fails with a clear message instead of undefined values downstream.
 */

const labels = z.pipe(
  z.optional(z.nullable(z.record(z.string(), z.string()))),
  z.transform((v) => v ?? {}),
);

const VolumeJson = z.object({
  Name: z.string(),
  Labels: labels,
  Mountpoint: z.optional(z.string()),
  CreatedAt: z.optional(z.string()),
});

const ContainerJson = z.object({
  Id: z.string(),
  Names: z.optional(z.nullable(z.array(z.string()))),
  Image: z.optional(z.string()),
  State: z.string(),
  Labels: labels,
  ExitCode: z.optional(z.number()),
  Exited: z.optional(z.boolean()),
  Created: z.optional(z.number()),
});

const ImageJson = z.object({
  Id: z.string(),
  Names: z.optional(z.nullable(z.array(z.string()))),
});

const InfoJson = z.object({
  host: z.object({
    cgroupVersion: z.optional(z.string()),
    cgroupManager: z.optional(z.string()),
    networkBackend: z.optional(z.string()),
    ociRuntime: z.optional(z.object({ name: z.optional(z.string()) })),
    security: z.optional(z.object({ rootless: z.optional(z.boolean()) })),
  }),
  store: z.object({
    graphDriverName: z.optional(z.string()),
    graphRoot: z.optional(z.string()),
  }),
  version: z.object({ Version: z.string() }),
});

function parseJson<T>(what: string, text: string, schema: z.ZodMiniType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? 'null' : text);
  } catch (err) {
    throw new MinoError(`Podman returned invalid JSON for ${what}`, { cause: err, hint: 'Run with -vv to see podman output' });
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MinoError(
      `Unexpected podman output for ${what}: ${issue && issue.path.length > 0 ? `field ${issue.path.join('.')} is invalid` : 'not the expected JSON document'}`,
      { hint: 'This podman version may be unsupported; run `mino status`' },
    );
  }
  return result.data;
}

/** Parses `podman volume ls --format json` (podman prints `null` or nothing when empty). */
export function parseVolumeList(text: string): VolumeInfo[] {
  const list = parseJson('volume list', text, z.nullable(z.array(VolumeJson))) ?? [];
  return list.map((v) => ({ name: v.Name, labels: v.Labels, mountpoint: v.Mountpoint, createdAt: v.CreatedAt }));
}

const STATES: readonly ContainerState[] = [
  'created', 'running', 'paused', 'exited', 'stopped', 'stopping', 'configured', 'removing',
];

/** Parses `podman ps -a --format json`. */
export function parseContainerList(text: string): ContainerSummary[] {
  const list = parseJson('container list', text, z.nullable(z.array(ContainerJson))) ?? [];
  return list.map((c) => {
    const state = (STATES as readonly string[]).includes(c.State) ? (c.State as ContainerState) : 'unknown';
    const finished = state === 'exited' || state === 'stopped';
    return {
      id: c.Id,
      name: c.Names?.[0] ?? c.Id.slice(0, 12),
      image: c.Image ?? '',
      state,
      labels: c.Labels,
      exitCode: finished ? c.ExitCode : undefined,
      createdAt: c.Created ?? 0,
    };
  });
}

/** Parses `podman images --format json` into the `repository:tag` names of every image. */
export function parseImageNames(text: string): string[] {
  const list = parseJson('image list', text, z.nullable(z.array(ImageJson))) ?? [];
  return list.flatMap((img) => img.Names ?? []);
}

/** Parses `podman info --format json`. */
export function parseInfo(text: string): RuntimeInfo {
  const info = parseJson('podman info', text, InfoJson);
  return {
    version: info.version.Version,
    rootless: info.host.security?.rootless ?? false,
    storageDriver: info.store.graphDriverName ?? 'unknown',
    ociRuntime: info.host.ociRuntime?.name ?? 'unknown',
    cgroupVersion: info.host.cgroupVersion ?? 'unknown',
    cgroupManager: info.host.cgroupManager ?? 'unknown',
    networkBackend: info.host.networkBackend ?? 'unknown',
    graphRoot: info.store.graphRoot ?? '',
  };
}

/**
 * Parses `du -s` output (`<size>\t<path>` per line) into a map of path → bytes.
 * `unit` is the multiplier of the size column (1 for `-b`, 1024 for `-k`).
 */
export function parseDu(text: string, unit: number): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.+)$/.exec(line.trim());
    if (m && m[1] && m[2]) sizes.set(m[2], Number(m[1]) * unit);
  }
  return sizes;
}
