import { redactArgs } from '../../common/redact.js';
import { lastLines } from '../../common/text.js';
import {
  ConflictError,
  EngineError,
  EngineUnreachableError,
  InUseError,
  NotFoundError,
  NotSupportedError,
  StaleEngineStateError,
} from '../runtime-errors.js';

/** Known podman failure patterns and what to do about them. */
const HINTS: Array<[RegExp, string]> = [
  [
    /invalid internal status.*system migrate|pause process/i,
    'Rootless podman kept state from before a restart whose processes are gone. Run: mino setup (runs podman system migrate)',
  ],
  [
    /cgroups in hybrid mode not supported|cgroup.*hybrid/i,
    'crun cannot run on this cgroup v1 hybrid host. Run: mino setup (switches to runc)',
  ],
  [
    /setrlimit|error setting rlimit/i,
    "The host cannot grant podman's default ulimits. Run: mino setup (sets default_ulimits)",
  ],
  [/\/dev\/net\/tun/i, 'Rootless networking cannot open /dev/net/tun. Run: mino setup'],
  [
    /newuidmap|newgidmap|subuid|subgid|insufficient uids|no subuid ranges/i,
    'Rootless Podman is not configured (uid ranges). Run: mino setup',
  ],
  [
    /XDG_RUNTIME_DIR|runtime directory/i,
    'Set XDG_RUNTIME_DIR to a directory you own (mode 0700), or log in through a proper session',
  ],
  [/no such container|no container with name or id/i, 'The container no longer exists. Run: mino list -a'],
  [
    /image not known|manifest unknown|no such image/i,
    'The image is not available locally. Run: mino setup, or build/pull it first',
  ],
  // podman's remote client (remote engines, src/runtime/podman/remote-podman-runtime.ts):
  [
    /ssh: handshake failed|unable to authenticate/i,
    "The engine's host refused the ssh key: check the key given with --identity and the user's authorized_keys there",
  ],
  [/failed to read identity/i, 'The ssh key file cannot be read: check the path given with --identity'],
  [
    /failed to connect: dial tcp|no such host|strconv\.Atoi/i,
    "The engine's host does not answer on its ssh port: check the host name and port, and that sshd runs there",
  ],
  [
    /ssh: rejected: connect failed/i,
    "Nothing listens on the engine's socket: start `podman system service --time=0 unix://PATH` there, or fix the path",
  ],
  [/ping response was/i, "The socket answers, but it is not Podman's API: check the socket path of the engine"],
  [/cannot connect|connection refused|dial unix/i, 'The podman service is not reachable. Run: mino status'],
  [/no space left on device/i, 'The disk is full. Free space with: mino cache gc'],
];

/** The hint for a podman error output, if one is known. */
function hintForPodmanError(stderr: string): string | undefined {
  for (const [pattern, hint] of HINTS) if (pattern.test(stderr)) return hint;
  return undefined;
}

/** Which neutral error a podman failure is. */
type PodmanFailureKind =
  | 'stale-state'
  | 'not-found'
  | 'conflict'
  | 'in-use'
  | 'unreachable'
  | 'not-supported'
  | 'other';

/** Classifies podman's error output; `other` when it says nothing mino acts on. */
function podmanFailureKind(stderr: string): PodmanFailureKind {
  if (/invalid internal status|podman system migrate/i.test(stderr)) return 'stale-state';
  if (isNotFound(stderr)) return 'not-found';
  if (/already exists|already in use/i.test(stderr)) return 'conflict';
  if (/is being used|is in use/i.test(stderr)) return 'in-use';
  // The engine's own service, not a registry that refused a pull ("dial tcp …: connection refused").
  if (/cannot connect to podman|unable to connect to podman|failed to connect: |failed to read identity/i.test(stderr))
    return 'unreachable';
  if (/cgroup v1|does not have a cgroup|cgroups? .*not supported/i.test(stderr)) return 'not-supported';
  return 'other';
}

/** Short IDs of the 64-hex container IDs podman named in its error output. */
function containerIdsIn(stderr: string): string[] {
  return [...stderr.matchAll(/\b([0-9a-f]{64})\b/g)].map((m) => (m[1] ?? '').slice(0, 12));
}

/**
 * The engine-neutral error for a podman command that failed: its message names the command
 * (secrets redacted) and shows the last lines of podman's error output; the class says what
 * podman reported (see {@link podmanFailureKind}).
 */
export function podmanError(
  args: readonly string[],
  podmanExitCode: number,
  stderr: string,
  hint?: string,
): EngineError {
  // podman's own warnings (e.g. the remote client's known_hosts notice) are not the failure.
  const failureText = stderr
    .split('\n')
    .filter((l) => !/^time="[^"]*" level=warning /.test(l))
    .join('\n');
  const detail = lastLines(failureText, 8) || lastLines(stderr, 8) || `exit code ${podmanExitCode}`;
  const message = `podman ${redactArgs(args.slice(0, 2)).join(' ')} failed: ${detail}`;
  const diagnosis = hintForPodmanError(stderr);
  const failure = {
    engineExitCode: podmanExitCode,
    stderr,
    diagnosis,
    hint: hint ?? diagnosis ?? 'Run with -vv to see the full podman command',
  };
  switch (podmanFailureKind(stderr)) {
    case 'stale-state':
      return new StaleEngineStateError(message, failure);
    case 'not-found':
      return new NotFoundError(message, failure);
    case 'conflict':
      return new ConflictError(message, failure);
    case 'in-use':
      return new InUseError(message, { ...failure, containerIds: containerIdsIn(stderr) });
    case 'unreachable':
      return new EngineUnreachableError(message, failure);
    case 'not-supported':
      return new NotSupportedError(message, failure);
    default:
      return new EngineError(message, failure);
  }
}

/** `volume rm` without force refused: containers (running or stopped) still use the volume. */
export function volumeInUseError(volume: string, podmanExitCode: number, stderr: string): InUseError {
  const ids = containerIdsIn(stderr);
  return new InUseError(`Volume ${volume} is used by container(s) ${ids.join(', ') || '(unknown)'}`, {
    engineExitCode: podmanExitCode,
    stderr,
    diagnosis: hintForPodmanError(stderr),
    hint: 'Remove those containers first, or force the removal (which removes them too)',
    containerIds: ids,
  });
}

/** True when podman's error output says the object does not exist. */
export function isNotFound(stderr: string): boolean {
  // Only podman's own "no such object" wording: a bare "not found" also appears in engine
  // failures ("default OCI runtime \"crun\" not found", "executable file not found in $PATH").
  return /no such (container|volume|image|secret|object|pod)|no container with name or id|no volume with name|image not known|no secret with name|secret .* not found: no such secret/i.test(
    stderr,
  );
}
