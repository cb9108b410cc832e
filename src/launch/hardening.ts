import type { ContainerSpec } from '../runtime/container-runtime.js';

/**
 * Container hardening applied to every run: drop every capability, forbid privilege
 * gain through setuid binaries, cap the number of processes; optionally a read-only root
 * filesystem with tmpfs mounts for the directories programs expect to write.
 */

/** `--cap-drop ALL --security-opt no-new-privileges --pids-limit 4096`. */
export const HARDENING: Readonly<Pick<ContainerSpec, 'capDrop' | 'securityOpt' | 'pidsLimit'>> = Object.freeze({
  capDrop: ['ALL'],
  securityOpt: ['no-new-privileges'],
  pidsLimit: 4096,
});

/**
 * tmpfs mounts of a `--read-only` container: `/tmp`, `/run`, `/root`, and
 * `/home/developer` for runs without the per-project home volume (`--no-home`, non-mino images);
 * when the home volume is mounted it replaces that tmpfs (see {@link readOnlySpec}).
 *
 * Known gap (seen with rootless podman 4.3.1 on the development machine): these tmpfs mounts
 * come up root-owned 0755, so an image running as uid 1000 cannot write them; `mode=1777` was
 * ignored there, `--tmpfs <path>:U` (chown to the container user) worked. `ContainerSpec.tmpfs`
 * is plain paths (podman-args rejects ':'), so fixing this needs a tmpfs option there first.
 */
export const READ_ONLY_TMPFS: readonly string[] = Object.freeze(['/tmp', '/run', '/root', '/home/developer']);

/**
 * The read-only fields of the spec. A tmpfs whose path is also a mount target is left out (podman
 * refuses two mounts at one path): a user volume at `/tmp`, or the home volume at
 * `/home/developer`, replaces the tmpfs there.
 */
export function readOnlySpec(
  readOnly: boolean,
  mountTargets: readonly string[],
): Pick<ContainerSpec, 'readOnly' | 'tmpfs'> {
  if (!readOnly) return {};
  return { readOnly: true, tmpfs: READ_ONLY_TMPFS.filter((path) => !mountTargets.includes(path)) };
}
