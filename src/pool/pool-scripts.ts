/**
 * The constant shell scripts of a warm container (and pool/remote-output.ts's for a remote one). They are fixed program text, never built
 * from user input: the values they need (the time to live, the command) are positional
 * parameters, as with `sh -c SCRIPT NAME ARG…`.
 *
 * State inside the container lives under /dev/shm (a tmpfs podman gives every container, writable
 * by any user, read-only root or not): `.mino-pool.pid` holds the PID of the command a run
 * started there.
 */

/**
 * Main process of a warm container (after the image's entrypoint, e.g. mino-bootstrap, ran just
 * as for a cold run): sleeps for its time to live (`$1` seconds), then exits, so the container
 * (`--rm`) removes itself even if mino never runs again. Once a run has claimed it (the PID file
 * exists) it lives on while the command runs (and 2 s more, 30 s after a remote run), and forwards INT, TERM and HUP to the
 * command, as the init does for a cold run; unclaimed, a signal just ends it.
 */
export const WARM_MAIN_SCRIPT = [
  'p=/dev/shm/.mino-pool.pid',
  'fwd() { if [ -s "$p" ]; then g=1; kill -s "$1" "$(cat "$p")" 2>/dev/null; kill "$s" 2>/dev/null; else exit 0; fi; }',
  "trap 'fwd INT' INT; trap 'fwd TERM' TERM; trap 'fwd HUP' HUP",
  'sleep "$1" & s=$!',
  'wait "$s"',
  'while [ -s "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null; do sleep 1 & s=$!; wait "$s"; done',
  // Claimed: stay a moment after the command ended, so the container does not stop under the
  // `podman exec` still collecting its exit code (it said 255 then); mino removes it anyway.
  // A remote run's wrapper asks for 30 s (the hold file: its output copy may be read back),
  // unless a signal came (mino's `podman rm`, or one forwarded to the command).
  'if [ -s "$p" ]; then t=2; [ -e /dev/shm/.mino-pool.hold ] && [ -z "${g:-}" ] && t=30; sleep "$t" & s=$!; wait "$s"; fi',
].join('\n');

/**
 * The start of a warm container's main process when it has an agent directory (`$2`, mounted by
 * warm-spec.ts): with a `node` that runs in the image and the directory writable by the container's user, the
 * warm agent (warm-agent-script.ts) becomes the main process; otherwise WARM_MAIN_SCRIPT runs, as
 * before (runs then go through `podman exec`).
 */
export const WARM_AGENT_START_SCRIPT = [
  'if [ -n "${2:-}" ] && [ -f "$2/agent.js" ] && [ -w "$2" ] && node -e 0 >/dev/null 2>&1; then',
  '  exec node "$2/agent.js" "$2" "$1"',
  'fi',
].join('\n');

/**
 * What a claimed container runs (`podman exec … sh -c SCRIPT mino CMD ARG…`): what mino-entrypoint
 * does for a cold run after the bootstrap (MINO_PATH_PREPEND; exit 127 for a command not found,
 * 126 for one that cannot be executed, with mino's messages), waits for its terminal's size
 * when it has one, then records its PID for the main process and becomes the command.
 */
export const EXEC_WRAPPER_SCRIPT = [
  'if [ -n "${MINO_PATH_PREPEND:-}" ]; then PATH="${MINO_PATH_PREPEND}:${PATH}"; export PATH; fi',
  'case "$1" in',
  '  */*)',
  '    if [ ! -e "$1" ]; then',
  `      printf 'Error: command not found in the image: %s\\nHint: check the path; mino run -- ls -l %s shows what is there\\n' "$1" "\${1%/*}/" >&2`,
  '      exit 127',
  '    elif [ -d "$1" ] || [ ! -x "$1" ]; then',
  `      printf 'Error: command is not executable in the image: %s\\nHint: it is a directory or lacks the execute permission\\n' "$1" >&2`,
  '      exit 126',
  '    fi',
  '    ;;',
  '  *)',
  '    if ! command -v -- "$1" >/dev/null 2>&1; then',
  `      printf "Error: command not found in the image: %s\\nHint: check its name and the image's PATH (%s); install it with a layer (mino layers list)\\n" "$1" "$PATH" >&2`,
  '      exit 127',
  '    fi',
  '    ;;',
  'esac',
  // `podman exec -t` gives the terminal its size only after the command started: wait for it
  // (at most 0.5 s), so the command sees the caller's terminal from its first instruction, as in
  // a cold run. A 0×0 terminal reads "0 0" (coreutils) or nothing (busybox, which fails then).
  'if [ -t 0 ] && command -v stty >/dev/null 2>&1; then',
  '  n=0',
  '  while [ "$n" -lt 25 ]; do',
  '    case "$(stty size 2>/dev/null)" in ""|"0 "*) sleep 0.02 2>/dev/null || break; n=$((n + 1)) ;; *) break ;; esac',
  '  done',
  'fi',
  'echo "$$" > /dev/shm/.mino-pool.pid',
  'exec "$@"',
].join('\n');
