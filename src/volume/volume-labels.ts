/**
 * Labels of a session container that name the mino volumes it mounts, so `mino volume rm` and
 * `mino cache` can tell which containers use a volume without inspecting each.
 */

/**
 * Slugs of the named volumes a session mounts, comma-separated (slugs contain no comma), so
 * `mino volume rm` can tell which running containers use a volume without inspecting each.
 */
const LABEL_VOLUMES = 'io.mino.volumes';
/** Name of the home volume a session mounts. */
export const LABEL_HOME_VOLUME = 'io.mino.home-volume';

/** The volume labels of a session container; empty when it mounts no mino volume. */
export function volumeLabels(namedVolumes: readonly string[], homeVolume: string | undefined): Record<string, string> {
  return {
    ...(namedVolumes.length > 0 ? { [LABEL_VOLUMES]: namedVolumes.join(',') } : {}),
    ...(homeVolume === undefined ? {} : { [LABEL_HOME_VOLUME]: homeVolume }),
  };
}

/** The named-volume slugs of a container's labels (see {@link LABEL_VOLUMES}). */
export function volumesOfLabels(labels: Readonly<Record<string, string>>): string[] {
  return (labels[LABEL_VOLUMES] ?? '').split(',').filter((s) => s.length > 0);
}
