import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

/**
 * Which home volumes mino has created, so the common `mino run` skips the `podman volume
 * create` (30–50 ms) for a volume it made before: one marker file per volume under
 * `<stateDir>/home-volumes/`, holding the project path. Whoever removes a home volume removes
 * its marker ({@link homeVolumeMarkerPath}). Should the volume vanish behind mino's back,
 * `podman run` recreates it empty (without labels); the marker still names its project.
 */

/** Path of the marker of volume `name`. */
export function homeVolumeMarkerPath(stateDir: string, name: string): string {
  return join(stateDir, 'home-volumes', name);
}

/** True when mino created volume `name` before. */
export function homeVolumeKnown(stateDir: string, name: string): boolean {
  return existsSync(homeVolumeMarkerPath(stateDir, name));
}

/** Records that volume `name` exists for `projectDir`. Best effort. */
export function rememberHomeVolume(stateDir: string, name: string, projectDir: string): void {
  try {
    writeFileAtomic(homeVolumeMarkerPath(stateDir, name), `${projectDir}\n`, {
      mode: 0o600,
      mkdirMode: 0o700,
      durable: false,
    });
  } catch {
    // Only an optimisation: the next run creates (a no-op) again.
  }
}
