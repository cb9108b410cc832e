import type { ContainerRuntime, ContainerSpec, RunOutput, StreamedRun } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../common/text.js';
import { VOLUME_TARGET } from './sync-scripts.js';

/**
 * The short-lived container that reads and writes a project volume on the engine: the session's
 * image (it has sh and tar), as root (which, on a rootless engine, is the engine's user: the
 * session's user there), no network, removed when done. A warm pool on the engine keeps one
 * running (a warm helper, pool/warm-sync-helper.ts): the scripts are exec'd into it instead, which
 * saves a container start per trip. It is mino's own container, never the sandbox's.
 */

/** Where and what the helper runs. */
export interface SyncTarget {
  runtime: ContainerRuntime;
  /** Engine name (for messages and records). */
  engine: string;
  volume: string;
  image: string;
  /** Labels of the helper container (mino's state key, so `mino gc`/tests find leftovers). */
  labels: Record<string, string>;
  /**
   * A warm helper already running on the engine with this volume (see {@link warmHelperSpec}):
   * the scripts run in it with `podman exec` instead of a new container each.
   */
  warmHelper?: string;
}

/**
 * Main process of a warm helper: sleeps `$1` seconds (a stop signal ends it), then stays while a
 * script exec'd into it still runs (each marks itself with {@link EXEC_MARK}), so a return trip started early in a long
 * session is never cut off; then exits (the container, `--rm`, is removed).
 */
const WARM_HELPER_MAIN = [
  // PID 1 ignores signals it does not trap: `podman rm -f` (drain) would wait 10 s for its TERM.
  "trap 'exit 0' TERM INT HUP",
  'sleep "$1" & wait "$!"',
  'while :; do',
  '  busy=0',
  '  for f in /tmp/mino-sync.*; do',
  '    [ -e "$f" ] || continue',
  '    if kill -0 "${f##*.}" 2>/dev/null; then busy=1; else rm -f "$f"; fi',
  '  done',
  '  [ "$busy" = 1 ] || exit 0',
  '  sleep 5 & wait "$!"',
  'done',
].join('\n');

/** First line of a script exec'd into a warm helper: marks it running (see WARM_HELPER_MAIN). */
const EXEC_MARK = ': > "/tmp/mino-sync.$$"';

/**
 * The spec of a warm helper for `target`'s volume: the helper's container, detached, named
 * `name` with `labels`, living `seconds` (longer while a script runs in it).
 */
export function warmHelperSpec(
  target: SyncTarget,
  name: string,
  labels: Record<string, string>,
  seconds: number,
): ContainerSpec {
  return {
    ...helperSpec(target, WARM_HELPER_MAIN, [String(seconds)], false),
    name,
    labels: { ...labels, 'io.mino.sync': target.volume },
  };
}

/** The helper's spec for `script` with positional `args`. */
function helperSpec(target: SyncTarget, script: string, args: readonly string[], stdin: boolean): ContainerSpec {
  return {
    image: target.image,
    command: ['sh', '-c', script, 'mino-sync', ...args],
    labels: { ...target.labels, 'io.mino.sync': target.volume },
    user: '0:0',
    network: 'none',
    autoRemove: true,
    interactive: stdin,
    pullNever: true,
    securityOpt: ['no-new-privileges'],
    mounts: [{ source: target.volume, target: VOLUME_TARGET }],
  };
}

/** Runs the helper; throws a MinoError with the helper's error output when it fails. */
export async function runHelper(
  target: SyncTarget,
  what: string,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput> {
  const result =
    target.warmHelper === undefined
      ? await target.runtime.runStreamed(helperSpec(target, script, args, streams.input !== undefined), streams)
      : await target.runtime.execStreamed(
          target.warmHelper,
          ['sh', '-c', `${EXEC_MARK}\n${script}`, 'mino-sync', ...args],
          streams,
        );
  if (result.exitCode !== 0) {
    throw new MinoError(
      `${what} on engine ${target.engine} failed (exit ${result.exitCode}): ${lastLines(result.stderr, 5)}`,
      {
        hint: `Check the engine with: mino setup --engine ${target.engine}`,
      },
    );
  }
  return result;
}
