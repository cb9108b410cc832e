import { createHash } from 'node:crypto';
import { isMinoImage } from '../image/mino-image.js';

/**
 * Per-project home volumes: `/home/developer` of mino images lives in a
 * podman volume keyed by the project path, so shell history, tool logins and caches under the
 * home survive between sessions of one project. Podman copies the image's home into a new
 * volume on first use and chowns it to the container user, so `developer` owns it rootful and
 * rootless alike (with `--userns=keep-id:uid=1000`, its files are the host user's on disk).
 */

/** Where the home volume is mounted. */
export const HOME_TARGET = '/home/developer';
/** Prefix of every home volume's podman name. */
export const HOME_VOLUME_PREFIX = 'mino-home-';
/** Label marking a home volume (`true`). */
const LABEL_HOME = 'io.mino.home';
/** Label holding the project path the volume belongs to. */
export const LABEL_HOME_PROJECT = 'io.mino.home.project';
/** Label holding the creation time (RFC 3339). */
export const LABEL_HOME_CREATED = 'io.mino.home.created_at';

/** `mino-home-<first 12 hex of sha256(project path)>`, exactly as mino 1.6 names it. */
export function homeVolumeName(projectDir: string): string {
  return `${HOME_VOLUME_PREFIX}${createHash('sha256').update(projectDir).digest('hex').slice(0, 12)}`;
}

/** The labels of a new home volume; `extra` (e.g. test labels) comes last. */
export function homeVolumeLabels(
  projectDir: string,
  createdAt: Date,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    [LABEL_HOME]: 'true',
    [LABEL_HOME_PROJECT]: projectDir,
    [LABEL_HOME_CREATED]: createdAt.toISOString(),
    ...extra,
  };
}

/** Inputs of {@link wantsHomeVolume}. */
export interface HomeVolumeDecision {
  image: string;
  /** `--no-home` (or config home.enabled=false). */
  noHome: boolean;
  /** Container paths the other mounts use. */
  mountTargets: readonly string[];
}

/**
 * Whether a run gets the home volume: a mino image, not `--no-home`, and nothing else mounted
 * at /home/developer (a user's own mount there wins, as in mino 1.6).
 */
export function wantsHomeVolume(d: HomeVolumeDecision): boolean {
  return !d.noHome && isMinoImage(d.image) && !d.mountTargets.includes(HOME_TARGET);
}
