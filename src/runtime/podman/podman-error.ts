import { MinoError } from '../../common/errors.js';
import { redactArgs } from '../../common/redact.js';
import { lastLines } from '../../common/text.js';

/** Known podman failure patterns and what to do about them. */
const HINTS: Array<[RegExp, string]> = [
  [/invalid internal status.*system migrate|pause process/i, 'Rootless podman kept state from before a restart whose processes are gone. Run: mino setup (runs podman system migrate)'],
  [/cgroups in hybrid mode not supported|cgroup.*hybrid/i, 'crun cannot run on this cgroup v1 hybrid host. Run: mino setup (switches to runc)'],
  [/setrlimit|error setting rlimit/i, 'The host cannot grant podman\'s default ulimits. Run: mino setup (sets default_ulimits)'],
  [/\/dev\/net\/tun/i, 'Rootless networking cannot open /dev/net/tun. Run: mino setup'],
  [/newuidmap|newgidmap|subuid|subgid|insufficient uids|no subuid ranges/i, 'Rootless Podman is not configured (uid ranges). Run: mino setup'],
  [/XDG_RUNTIME_DIR|runtime directory/i, 'Set XDG_RUNTIME_DIR to a directory you own (mode 0700), or log in through a proper session'],
  [/no such container|no container with name or id/i, 'The container no longer exists. Run: mino list -a'],
  [/image not known|manifest unknown|no such image/i, 'The image is not available locally. Run: mino setup, or build/pull it first'],
  [/cannot connect|connection refused|dial unix/i, 'The podman service is not reachable. Run: mino status'],
  [/no space left on device/i, 'The disk is full. Free space with: mino cache gc'],
];

/** The hint for a podman error output, if one is known. */
export function hintForPodmanError(stderr: string): string | undefined {
  for (const [pattern, hint] of HINTS) if (pattern.test(stderr)) return hint;
  return undefined;
}

/** A podman command that failed: carries the command (secrets redacted), exit code and stderr. */
export class PodmanError extends MinoError {
  constructor(
    readonly args: readonly string[],
    readonly podmanExitCode: number,
    readonly stderr: string,
    hint?: string,
  ) {
    const detail = lastLines(stderr, 8) || `exit code ${podmanExitCode}`;
    super(`podman ${redactArgs(args.slice(0, 2)).join(' ')} failed: ${detail}`, {
      hint: hint ?? hintForPodmanError(stderr) ?? 'Run with -vv to see the full podman command',
    });
    this.name = 'PodmanError';
  }
}

/** `volume rm` without force refused: containers (running or stopped) still use the volume. */
export class VolumeInUseError extends MinoError {
  /** IDs of the containers podman named, when it did. */
  readonly containerIds: string[];

  constructor(readonly volume: string, stderr: string) {
    const ids = [...stderr.matchAll(/\b([0-9a-f]{64})\b/g)].map((m) => (m[1] ?? '').slice(0, 12));
    super(`Volume ${volume} is used by container(s) ${ids.join(', ') || '(unknown)'}`, {
      hint: 'Remove those containers first, or force the removal (which removes them too)',
    });
    this.name = 'VolumeInUseError';
    this.containerIds = ids;
  }
}

/** True when podman's error output says the object does not exist. */
export function isNotFound(stderr: string): boolean {
  // Only podman's own "no such object" wording: a bare "not found" also appears in engine
  // failures ("default OCI runtime \"crun\" not found", "executable file not found in $PATH").
  return /no such (container|volume|image|secret|object|pod)|no container with name or id|no volume with name|image not known|no secret with name|secret .* not found: no such secret/i.test(stderr);
}
