import type { ContainerRuntime, RunOutput, StreamedRun } from '../runtime/container-runtime.js';

/**
 * Scripts exec'd into a helper that keeps running on the engine (a pool's warm helper,
 * pool/warm-sync-helper.ts, or a project copy's persistent one, persistent-helper.ts): the
 * helper's main loop, which ends it once no script has run in it for a while, and the exec that
 * tells a live helper from a gone one without waiting.
 */

/**
 * Main process of a helper kept running: sleeps `$1` seconds (a stop signal ends it), then stays
 * while a script exec'd into it runs or ran less than `$2` seconds ago (each marks itself with
 * EXEC_PREFIX; a mark whose process ended counts as a trip just over and is removed), so a return
 * trip started early in a long session is never cut off. Before it exits it says it is closing
 * and looks for marks once more; a script that finds it closing ends at once without a word (see
 * EXEC_PREFIX): of a script and the loop deciding at the same moment, one always sees the other.
 * The container (`--rm`) is then removed.
 */
export const HELPER_MAIN = [
  // PID 1 ignores signals it does not trap: `podman rm -f` (drain) would wait 10 s for its TERM.
  "trap 'exit 0' TERM INT HUP",
  'sleep "$1" & wait "$!"',
  'step=5; [ "$2" -ge 10 ] || step=1',
  'last=$(date +%s)',
  'while :; do',
  '  for f in /tmp/mino-sync.*; do',
  '    [ -e "$f" ] || continue',
  '    last=$(date +%s)',
  '    kill -0 "${f##*.}" 2>/dev/null || rm -f "$f"',
  '  done',
  '  if [ $(($(date +%s) - last)) -ge "$2" ]; then',
  '    : > /tmp/mino-sync-closing',
  '    for f in /tmp/mino-sync.*; do [ -e "$f" ] && { rm -f /tmp/mino-sync-closing; continue 2; }; done',
  '    exit 0',
  '  fi',
  '  sleep "$step" & wait "$!"',
  'done',
].join('\n');

/**
 * First lines of a script exec'd into a kept helper: marks it running (see HELPER_MAIN; a regular
 * built-in, so an image without /tmp only loses the mark, not the script), then ends at once
 * (exit 75, with an error podman passes on: see execInHelper) when the helper is closing.
 */
const EXEC_PREFIX = [
  'true 2>/dev/null > "/tmp/mino-sync.$$" || true',
  "[ ! -e /tmp/mino-sync-closing ] || { echo 'Error: this sync helper is closing' >&2; exit 75; }",
].join('\n');

/** What a script exec'd into a helper prints first, so mino knows it runs (see execInHelper). */
const READY_LINE = 'mino-sync-ready\n';

/** The whole script exec'd into a kept helper to run `script`: EXEC_PREFIX, READY_LINE, `script`. */
export function helperExecScript(script: string): string {
  return `${EXEC_PREFIX}\nprintf '${READY_LINE.trim()}\\n'\n${script}`;
}

/**
 * How long a script exec'd into a helper may take to say it runs, when podman says nothing either.
 * A helper that is gone makes podman exec fail at once with an error, which ends the wait then.
 */
const READY_TIMEOUT_MS = 3000;

/**
 * Runs `script` in the running helper `id` with `podman exec`. Its input is held back until the
 * script said it runs (READY_LINE, taken off its stdout). When it does not say so (podman reports
 * an error first, the helper is gone or closing, or nothing comes in time), the script got no
 * input and did nothing (the scripts exit on an empty stdin before they change anything), its
 * output is dropped, and undefined is returned: the caller then runs the script elsewhere with
 * the same, untouched streams.
 */
export async function execInHelper(
  runtime: ContainerRuntime,
  id: string,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput | undefined> {
  let head = '';
  let errors = '';
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
    const result = await runtime.execStreamed(id, ['sh', '-c', helperExecScript(script), 'mino-sync', ...args], {
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
      // podman's own error (no such container, not running) before the script said a word: the
      // input closes now, so podman's side ends at once instead of at the deadline.
      onStderr: (chunk) => {
        if (decided !== undefined) return;
        errors += chunk.toString('utf8');
        if (/^Error: /m.test(errors)) decide(false);
      },
    });
    decide(false);
    return decided ? result : undefined;
  } finally {
    clearTimeout(timer);
  }
}
