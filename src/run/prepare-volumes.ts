import { log } from '../common/logger.js';
import type { RunPlan } from '../launch/run-plan.js';
import { homeVolumeLabels } from '../volume/home-volume.js';
import { homeVolumeKnown, rememberHomeVolume } from '../volume/home-volume-marker.js';
import { LABEL_NAMED_VOLUME_CREATED, namedVolumeName } from '../volume/named-volume.js';
import { formatSize } from '../volume/parse-size.js';
import { VolumeStore } from '../volume/volume-store.js';
import { podmanVolumes, volumeNotFound } from '../resources/manage-volumes.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The volume step of `mino run`, between planning and starting the container:
 * - named volumes (`--volume my-data:/data`): each must exist in podman (one `volume ls` for
 *   all), else the run fails before any container starts, naming the existing ones; each gets
 *   its use recorded (last used, mount count); a volume with a size limit is measured and a
 *   warning printed when it is over (podman does not enforce limits);
 * - the home volume: created with its labels the first time (one `volume create`; later runs
 *   skip it, see home-volume-marker.ts). Podman copies the image's /home/developer into it on
 *   first use.
 * A run without named volumes or home volume asks podman nothing here.
 */
export async function prepareVolumes(
  ctx: SessionContext,
  plan: RunPlan,
  say: (message: string) => void,
  now = new Date(),
): Promise<void> {
  if (plan.namedVolumes.length > 0) {
    const existing = await podmanVolumes(ctx);
    const missing = plan.namedVolumes.find((slug) => !existing.has(slug));
    if (missing !== undefined) throw volumeNotFound(missing, [...existing.keys()].sort());
    const store = new VolumeStore(ctx.stateDir);
    for (const slug of plan.namedVolumes) {
      const meta = store.markUsed(slug, now, existing.get(slug)?.labels[LABEL_NAMED_VOLUME_CREATED]);
      if (meta.size_bytes > 0) await warnOverLimit(ctx, slug, meta.size_bytes, say);
    }
  }
  if (plan.homeVolume !== undefined && homeVolumeToCreate(ctx, plan)) {
    await ctx.runtime.volumeCreate(plan.homeVolume, homeVolumeLabels(plan.projectDir, now));
    rememberHomeVolume(ctx.stateDir, plan.homeVolume, plan.projectDir);
  }
}

/** True when {@link prepareVolumes} would create the plan's home volume (not known to exist yet). */
export function homeVolumeToCreate(ctx: SessionContext, plan: RunPlan): boolean {
  return plan.homeVolume !== undefined && !homeVolumeKnown(ctx.stateDir, plan.homeVolume);
}

async function warnOverLimit(
  ctx: SessionContext,
  slug: string,
  limit: number,
  say: (message: string) => void,
): Promise<void> {
  const name = namedVolumeName(slug);
  try {
    const used = (await ctx.runtime.volumeDiskUsage(name)).get(name);
    if (used !== undefined && used > limit) {
      say(
        `Warning: volume '${slug}' uses ${formatSize(used)}, over its ${formatSize(limit)} limit (podman does not enforce it; free space in the volume or remove it with 'mino volume rm ${slug}')`,
      );
    }
  } catch (err) {
    log.warn('could not measure volume', { volume: name, error: String(err) });
  }
}
