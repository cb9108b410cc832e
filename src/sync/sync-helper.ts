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

/**
 * First line of a script exec'd into a warm helper: marks it running (see WARM_HELPER_MAIN). A
 * regular built-in, so an image without /tmp only loses the mark, not the script.
 */
const EXEC_MARK = 'true 2>/dev/null > "/tmp/mino-sync.$$" || true';

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
    (target.warmHelper === undefined
      ? undefined
      : await execInWarmHelper(target.runtime, target.warmHelper, script, args, streams)) ??
    (await target.runtime.runStreamed(helperSpec(target, script, args, streams.input !== undefined), streams));
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

/** What a script exec'd into a warm helper prints first, so mino knows it runs (see execInWarmHelper). */
const READY_LINE = 'mino-sync-ready\n';

/**
 * How long a script exec'd into a warm helper may take to say it runs. A helper that is gone
 * makes podman exec fail at once, but the input pipe keeps podman's side open until it ends:
 * this deadline ends it, so a gone helper costs this long once (the refill then replaces it).
 */
const READY_TIMEOUT_MS = 3000;

/**
 * Runs `script` in the warm helper `id` with `podman exec`. Its input is held back until the
 * script said it runs (READY_LINE, taken off its stdout). When it does not say so in time (the
 * helper is gone, or too slow), the script got no input and did nothing (the scripts exit on an
 * empty stdin before they change anything), its output is dropped, and undefined is returned:
 * the caller then starts a helper container with the same, untouched streams.
 */
async function execInWarmHelper(
  runtime: ContainerRuntime,
  id: string,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput | undefined> {
  let head = '';
  let decided: boolean | undefined;
  let signal: (ok: boolean) => void = () => undefined;
  const ready = new Promise<boolean>((resolve) => {
    signal = resolve;
  });
  const decide = (ok: boolean): void => {
    if (decided !== undefined) return;
    decided = ok;
    signal(ok);
  };
  const timer = setTimeout(() => decide(false), READY_TIMEOUT_MS);
  const { input, onStdout } = streams;
  try {
    const result = await runtime.execStreamed(
      id,
      ['sh', '-c', `${EXEC_MARK}\nprintf '${READY_LINE.trim()}\\n'\n${script}`, 'mino-sync', ...args],
      {
        // Without input, the input is an empty one: the deadline still ends a gone helper's exec.
        input: (async function* () {
          if ((await ready) && input !== undefined) yield* input;
        })(),
        onStdout: async (chunk) => {
          if (decided === true) return onStdout?.(chunk);
          if (decided === false) return;
          head += chunk.toString('latin1');
          if (head.length < READY_LINE.length) return;
          decide(head.startsWith(READY_LINE));
          const rest = Buffer.from(head.slice(READY_LINE.length), 'latin1');
          if (decided && rest.length > 0) await onStdout?.(rest);
        },
      },
    );
    decide(false);
    return decided ? result : undefined;
  } finally {
    clearTimeout(timer);
  }
}
