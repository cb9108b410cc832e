import { EXIT_USAGE, MinoError, UsageError } from '../common/errors.js';
import { LABEL_SESSION } from '../session/session-labels.js';
import { volumesOfLabels } from '../volume/volume-labels.js';
import type { ContainerSummary, VolumeInfo } from '../runtime/container-runtime.js';
import { InUseError } from '../runtime/runtime-errors.js';
import {
  LABEL_NAMED_VOLUME_CREATED,
  NAMED_VOLUME_PREFIX,
  namedVolumeLabels,
  namedVolumeName,
  slugOfVolumeName,
} from '../volume/named-volume.js';
import { formatSize, parseSize } from '../volume/parse-size.js';
import { newVolumeMetadata, type VolumeMetadata } from '../volume/volume-metadata.js';
import { VolumeStore } from '../volume/volume-store.js';
import { isVolumeSlug, validateVolumeSlug } from '../volume/volume-slug.js';
import { reconcileSessions } from '../lifecycle/reconcile-sessions.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * `mino volume create|list|info|rm`: named volumes backed by podman volumes
 * `mino-vol-<slug>` plus metadata files (size limit, last use, mount count). Podman is the
 * truth for whether a volume exists; the metadata adds what labels cannot hold (they are
 * immutable). A volume podman has but the metadata lacks (made under another state directory)
 * is still listed and usable; metadata whose podman volume is gone shows as missing.
 */

/** One named volume as the commands show it. */
export interface NamedVolumeView {
  slug: string;
  /** Podman volume name, `mino-vol-<slug>`. */
  volume: string;
  /** The podman volume exists. */
  exists: boolean;
  /** Size limit in bytes, 0 for none (not enforced by podman). */
  sizeLimitBytes: number;
  /** Measured usage; undefined when the volume is missing or was not measured. */
  usedBytes: number | undefined;
  /** RFC 3339 creation time (metadata, else the podman label). */
  createdAt: string | undefined;
  lastUsed: string | null;
  mountCount: number;
  /** Usage is above a set limit. */
  overLimit: boolean;
  /** Mount point on the podman host (only from `info`). */
  mountpoint?: string;
}

/** A running container that mounts a named volume. */
export interface VolumeUser {
  /** Session name (label), or the container name for containers without one. */
  session: string;
  container: string;
  state: string;
}

/** What {@link listNamedVolumes} found, plus warnings about unreadable metadata. */
export interface NamedVolumeList {
  volumes: NamedVolumeView[];
  warnings: string[];
}

function storeOf(ctx: SessionContext): VolumeStore {
  return new VolumeStore(ctx.stateDir);
}

function view(
  slug: string,
  meta: VolumeMetadata | undefined,
  podman: VolumeInfo | undefined,
  used: number | undefined,
): NamedVolumeView {
  const sizeLimitBytes = meta?.size_bytes ?? 0;
  const usedBytes = podman ? used : undefined;
  return {
    slug,
    volume: `${NAMED_VOLUME_PREFIX}${slug}`,
    exists: podman !== undefined,
    sizeLimitBytes,
    usedBytes,
    createdAt: meta?.created_at ?? podman?.labels[LABEL_NAMED_VOLUME_CREATED] ?? podman?.createdAt,
    lastUsed: meta?.last_used ?? null,
    mountCount: meta?.mount_count ?? 0,
    overLimit: sizeLimitBytes > 0 && usedBytes !== undefined && usedBytes > sizeLimitBytes,
  };
}

/** Podman's named volumes by slug (one `volume ls`). */
export async function podmanVolumes(ctx: SessionContext): Promise<Map<string, VolumeInfo>> {
  const bySlug = new Map<string, VolumeInfo>();
  for (const v of await ctx.runtime.volumeList(NAMED_VOLUME_PREFIX)) {
    const slug = slugOfVolumeName(v.name);
    if (slug !== undefined && isVolumeSlug(slug)) bySlug.set(slug, v);
  }
  return bySlug;
}

/** The "not found" error, with the existing slugs in the hint: a usage error (exit 2), like an unknown session. */
export function volumeNotFound(slug: string, existing: readonly string[]): MinoError {
  const list = existing.length > 0 ? `Existing volumes: ${existing.join(', ')}. ` : 'No volumes exist yet. ';
  return new MinoError(`Volume '${slug}' does not exist`, {
    hint: `${list}Create it with: mino volume create ${slug}`,
    exitCode: EXIT_USAGE,
  });
}

/** Parses a `--size` value for a limit: a positive size. */
function parseSizeLimit(text: string): number {
  const bytes = parseSize(text);
  if (bytes === 0)
    throw new UsageError(
      `Invalid size '${text}': a limit must be more than 0 bytes`,
      'Leave out --size for a volume without a limit',
    );
  return bytes;
}

/**
 * Creates a named volume: the podman volume `mino-vol-<slug>` with its labels, then the
 * metadata. Refuses a slug whose podman volume already exists.
 */
export async function createNamedVolume(
  ctx: SessionContext,
  slugText: string,
  size: string | undefined,
  now = new Date(),
): Promise<NamedVolumeView> {
  const slug = validateVolumeSlug(slugText);
  const sizeBytes = size === undefined ? 0 : parseSizeLimit(size);
  const name = namedVolumeName(slug);
  if (await ctx.runtime.volumeInspect(name)) {
    throw new MinoError(`Volume '${slug}' already exists`, {
      hint: `See it with 'mino volume info ${slug}', or choose another name`,
    });
  }
  await ctx.runtime.volumeCreate(name, namedVolumeLabels(slug, now));
  const meta = newVolumeMetadata(slug, sizeBytes, now);
  storeOf(ctx).put(meta);
  return view(slug, meta, { name, labels: {} }, 0);
}

/**
 * Every named volume (podman's and the metadata's), sorted by slug, with usage measured in one
 * host call for all of them.
 */
export async function listNamedVolumes(ctx: SessionContext): Promise<NamedVolumeList> {
  const { volumes: metas, warnings } = storeOf(ctx).list();
  const [podman, usage] = await Promise.all([podmanVolumes(ctx), ctx.runtime.volumeDiskUsage(NAMED_VOLUME_PREFIX)]);
  const byMeta = new Map(metas.map((m) => [m.slug, m]));
  const slugs = [...new Set([...byMeta.keys(), ...podman.keys()])].sort();
  const volumes = slugs.map((slug) =>
    view(slug, byMeta.get(slug), podman.get(slug), usage.get(`${NAMED_VOLUME_PREFIX}${slug}`)),
  );
  return { volumes, warnings };
}

function active(c: ContainerSummary): boolean {
  return c.state !== 'exited' && c.state !== 'stopped' && c.state !== 'removing';
}

/** Running (or starting) containers whose labels say they mount `slug`. */
export function runningUsers(containers: readonly ContainerSummary[], slug: string): VolumeUser[] {
  return containers
    .filter((c) => active(c) && volumesOfLabels(c.labels).includes(slug))
    .map((c) => ({ session: c.labels[LABEL_SESSION] ?? c.name, container: c.name, state: c.state }));
}

/** Details of one named volume, including the running sessions that mount it. */
export async function namedVolumeInfo(
  ctx: SessionContext,
  slugText: string,
): Promise<NamedVolumeView & { users: VolumeUser[] }> {
  const slug = validateVolumeSlug(slugText);
  const name = namedVolumeName(slug);
  const store = storeOf(ctx);
  const [podman, meta] = [await ctx.runtime.volumeInspect(name), store.get(slug)];
  if (!podman && !meta) throw volumeNotFound(slug, [...(await podmanVolumes(ctx)).keys()].sort());
  const [usage, reconciled] = await Promise.all([
    podman ? ctx.runtime.volumeDiskUsage(name) : Promise.resolve(new Map<string, number>()),
    reconcileSessions(ctx),
  ]);
  return {
    ...view(slug, meta, podman, usage.get(name)),
    ...(podman?.mountpoint ? { mountpoint: podman.mountpoint } : {}),
    users: runningUsers(reconciled.containers, slug),
  };
}

/**
 * Removes a named volume and its metadata. Without `force` it refuses while a running session
 * mounts it (found through container labels, after reconciling sessions with podman) and
 * while podman knows any other container using it. With `force`, podman removes those
 * containers too (a running session using it ends).
 */
export async function removeNamedVolume(
  ctx: SessionContext,
  slugText: string,
  force: boolean,
): Promise<{ removedUsers: VolumeUser[] }> {
  const slug = validateVolumeSlug(slugText);
  const name = namedVolumeName(slug);
  const store = storeOf(ctx);
  const podman = await ctx.runtime.volumeInspect(name);
  if (!podman && !store.get(slug)) throw volumeNotFound(slug, [...(await podmanVolumes(ctx)).keys()].sort());
  const users = podman ? runningUsers((await reconcileSessions(ctx)).containers, slug) : [];
  if (users.length > 0 && !force) {
    const names = users.map((u) => u.session);
    throw new MinoError(
      `Volume '${slug}' is mounted by running session${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
      {
        hint: `Stop ${names.length > 1 ? 'them' : 'it'} first (mino stop ${names[0]}), or run 'mino volume rm ${slug} -f', which also ends ${names.length > 1 ? 'those sessions' : 'that session'}`,
      },
    );
  }
  if (podman) {
    try {
      await ctx.runtime.volumeRemove(name, { force });
    } catch (err) {
      if (!(err instanceof InUseError)) throw err;
      throw new MinoError(
        `Volume '${slug}' is still used by container(s) ${err.containerIds.join(', ') || '(unknown)'}`,
        {
          hint: `Remove those containers first (podman rm <id>), or run 'mino volume rm ${slug} -f', which removes them too`,
        },
      );
    }
  }
  store.remove(slug);
  return { removedUsers: force ? users : [] };
}

/** `used / limit` for display: `1.2GB / 2.0GB`, `1.2GB` without a limit, `-` when unknown. */
export function usageText(v: Pick<NamedVolumeView, 'usedBytes' | 'sizeLimitBytes'>): string {
  const used = v.usedBytes === undefined ? '-' : formatSize(v.usedBytes);
  return v.sizeLimitBytes > 0 ? `${used} / ${formatSize(v.sizeLimitBytes)}` : used;
}
