import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join } from 'node:path';

/**
 * Where a session's egress proxy keeps its runtime files: one 0700 directory per session under
 * `$XDG_RUNTIME_DIR/mino/egress` (else `<state>/egress`), named by a hash of the state directory
 * key and the session name (unix socket paths are limited to 107 bytes, session names are not).
 * Nothing in it is ever mounted into a container: the sandbox reaches the proxy only through the
 * loopback listener the proxy holds inside the sandbox's network namespace.
 */

/** Longest unix socket path the kernel accepts, with a margin. */
const MAX_SOCKET_PATH = 100;

/** The files of one session's proxy. */
export interface EgressPaths {
  /** The per-user base directory (0700). */
  base: string;
  /** The session's directory (0700). */
  dir: string;
  /** The proxy's control socket (`mino network allow/deny/show`, `mino run` at the end). */
  control: string;
  /** FIFO the OCI hook writes the container's PID to. */
  attach: string;
  /** FIFO the proxy answers the hook on (`ok`, or an error). */
  attached: string;
  /** The hooks directory passed to podman for this session only. */
  hooksDir: string;
  /** The hook's configuration file. */
  hookFile: string;
  /** What mino run tells the proxy (policy, session, state directory). */
  launch: string;
  /** The running proxy's PID and start time, for reaping. */
  helper: string;
}

/** The base directory of egress runtime files for a state directory. */
export function egressBase(env: NodeJS.ProcessEnv, stateDir: string, uid: number): string {
  const runtime = env.XDG_RUNTIME_DIR;
  const base = runtime && isAbsolute(runtime) ? join(runtime, 'mino', 'egress') : join(stateDir, 'egress');
  // <base>/<16 hex>/control.sock must fit a unix socket address.
  return base.length + 30 <= MAX_SOCKET_PATH ? base : join('/tmp', `mino-egress-${uid}`);
}

/** The directory name of a session: 16 hex digits of sha256(state key, session name). */
function egressDirName(stateKey: string, session: string): string {
  return createHash('sha256').update(`${stateKey}\0${session}`).digest('hex').slice(0, 16);
}

/** The paths of one session's proxy. */
export function egressPaths(base: string, stateKey: string, session: string): EgressPaths {
  return egressPathsOf(join(base, egressDirName(stateKey, session)));
}

/** The paths of the session whose egress directory is `dir`. */
export function egressPathsOf(dir: string): EgressPaths {
  return {
    base: dirname(dir),
    dir,
    control: join(dir, 'control.sock'),
    attach: join(dir, 'attach'),
    attached: join(dir, 'attached'),
    hooksDir: join(dir, 'hooks.d'),
    hookFile: join(dir, 'hooks.d', 'mino-egress.json'),
    launch: join(dir, 'launch.json'),
    helper: join(dir, 'helper.json'),
  };
}
