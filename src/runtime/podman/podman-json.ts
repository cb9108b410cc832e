import * as z from 'zod/mini';
import { MinoError } from '../../common/errors.js';
import type {
  ContainerState,
  ContainerSummary,
  ImageFacts,
  LocalImage,
  RuntimeInfo,
  SecretInfo,
  VolumeInfo,
} from '../container-runtime.js';

/**
 * Parsers for podman's `--format json` output. Podman's JSON is validated with zod so that a
 * different podman version fails with a clear message instead of undefined values downstream.
 */

// Built on first use (zod builds a schema and its parsers when it is made): a command that asks
// podman nothing in JSON, such as a run served by a warm agent, never pays for them.
function buildSchemas() {
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

  const names = z.pipe(
    z.optional(z.nullable(z.array(z.string()))),
    z.transform((v) => v ?? []),
  );

  const ImageJson = z.object({
    Id: z.string(),
    Names: names,
    Size: z.optional(z.number()),
    Labels: labels,
    Containers: z.optional(z.number()),
    Created: z.optional(z.number()),
  });

  const ImageInspectJson = z.object({
    Id: z.string(),
    RepoTags: names,
    Size: z.optional(z.number()),
    Created: z.optional(z.string()),
    User: z.optional(z.string()),
    Labels: labels,
    Config: z.optional(
      z.nullable(
        z.object({
          User: z.optional(z.string()),
          Labels: labels,
        }),
      ),
    ),
  });

  const SecretInspectJson = z.object({
    ID: z.string(),
    CreatedAt: z.optional(z.string()),
    Spec: z.object({
      Name: z.string(),
      Labels: labels,
    }),
  });

  /** graphStatus values are strings in podman 4 (`"true"`); accept other scalars as text too. */
  const graphStatus = z.pipe(
    z.optional(z.nullable(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])))),
    z.transform((v) => Object.fromEntries(Object.entries(v ?? {}).map(([k, x]) => [k, String(x)]))),
  );

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
      runRoot: z.optional(z.string()),
      graphStatus,
    }),
    version: z.object({ Version: z.string() }),
  });
  return { VolumeJson, ContainerJson, ImageJson, ImageInspectJson, SecretInspectJson, InfoJson };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

function json(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

function parseJson<T>(what: string, text: string, schema: z.ZodMiniType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? 'null' : text);
  } catch (err) {
    throw new MinoError(`Podman returned invalid JSON for ${what}`, {
      cause: err,
      hint: 'Run with -vv to see podman output',
    });
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
  const list = parseJson('volume list', text, z.nullable(z.array(json().VolumeJson))) ?? [];
  return list.map((v) => ({ name: v.Name, labels: v.Labels, mountpoint: v.Mountpoint, createdAt: v.CreatedAt }));
}

const STATES: readonly ContainerState[] = [
  'created',
  'running',
  'paused',
  'exited',
  'stopped',
  'stopping',
  'configured',
  'removing',
];

/** Parses `podman ps -a --format json`. */
export function parseContainerList(text: string): ContainerSummary[] {
  const list = parseJson('container list', text, z.nullable(z.array(json().ContainerJson))) ?? [];
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

/** Parses `podman images --format json`, merging the entries podman 4.3 prints once per name. */
export function parseImageList(text: string): LocalImage[] {
  const list = parseJson('image list', text, z.nullable(z.array(json().ImageJson))) ?? [];
  const byId = new Map<string, LocalImage>();
  for (const img of list) {
    const seen = byId.get(img.Id);
    if (seen) {
      for (const n of img.Names) if (!seen.names.includes(n)) seen.names.push(n);
      continue;
    }
    byId.set(img.Id, {
      id: img.Id,
      names: [...new Set(img.Names)],
      sizeBytes: img.Size ?? 0,
      labels: img.Labels,
      containers: img.Containers ?? 0,
      created: img.Created ?? 0,
    });
  }
  return [...byId.values()];
}

/** Parses `podman image inspect --format json` of one image (podman prints a list). */
export function parseImageInspect(text: string): ImageFacts | undefined {
  const [img] = parseJson('image inspect', text, z.nullable(z.array(json().ImageInspectJson))) ?? [];
  if (!img) return undefined;
  return {
    id: img.Id,
    names: img.RepoTags,
    sizeBytes: img.Size ?? 0,
    user: img.Config?.User ?? img.User ?? '',
    labels: { ...img.Labels, ...img.Config?.Labels },
    created: img.Created,
  };
}

/** Parses `podman secret inspect` output (a list). */
export function parseSecretInspect(text: string): SecretInfo[] {
  const list = parseJson('secret inspect', text, z.nullable(z.array(json().SecretInspectJson))) ?? [];
  return list.map((s) => ({ id: s.ID, name: s.Spec.Name, labels: s.Spec.Labels, createdAt: s.CreatedAt }));
}

/** Non-empty lines of a `--format '{{.Name}}'` listing. */
export function parseLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Parses `podman info --format json`. */
export function parseInfo(text: string): RuntimeInfo {
  const info = parseJson('podman info', text, json().InfoJson);
  const diff = info.store.graphStatus['Native Overlay Diff'];
  return {
    version: info.version.Version,
    rootless: info.host.security?.rootless ?? false,
    storageDriver: info.store.graphDriverName ?? 'unknown',
    ociRuntime: info.host.ociRuntime?.name ?? 'unknown',
    cgroupVersion: info.host.cgroupVersion ?? 'unknown',
    cgroupManager: info.host.cgroupManager ?? 'unknown',
    networkBackend: info.host.networkBackend ?? 'unknown',
    graphRoot: info.store.graphRoot ?? '',
    runRoot: info.store.runRoot ?? '',
    graphStatus: info.store.graphStatus,
    nativeOverlayDiff: diff === undefined ? undefined : diff === 'true',
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
    if (m?.[1] && m[2]) sizes.set(m[2], Number(m[1]) * unit);
  }
  return sizes;
}
