import { SESSION_ENV_PATH } from './session-env-file.js';

/**
 * The session prelude: a short POSIX `sh` script mino puts in front of the session's command
 * (after the image's entrypoint, so mino-base has bootstrapped the home already) when a session
 * has secret values, shared agent logins or host agent settings. It runs as the container user and
 * ends in `exec "$@"`, so the command keeps its PID, signals and exit code. `mino exec` runs its
 * commands through it too, so they see the same variables.
 *
 * 1. Sources the session env file (session-env-file.ts), if mounted.
 * 2. Codex keeps its login in ~/.codex/auth.json next to its history: when the shared logins
 *    volume is mounted and codex is installed, that one file is linked into the volume
 *    (Claude Code needs no link: CLAUDE_SECURESTORAGE_CONFIG_DIR points it there).
 * 3. Host agent settings mounted read-only under /opt/mino/host/<agent>/ are linked into ~/.<agent>/;
 *    an item the project's home already has is kept as <item>.mino-saved (once). Links into
 *    /opt/mino/host/ whose target is gone (settings not carried this time) are removed.
 */

/** argv[0] of the prelude (shows in `ps` inside the container and in its error messages). */
export const PRELUDE_NAME = 'mino-prelude';

/** Where the shared agent logins volume is mounted. */
export const LOGINS_TARGET = '/opt/mino/logins';
/** Where host agent settings are mounted, one directory per agent. */
export const HOST_SETTINGS_TARGET = '/opt/mino/host';

/** Part 1: the session env file. */
const ENV_PART = `if [ -f ${SESSION_ENV_PATH} ]; then . ${SESSION_ENV_PATH} || exit 126; fi`;

/** Part 2 (shared logins in a mino image): the Codex link, and links left by earlier host settings. */
const LOGINS_PART = [
  'h=${HOME:-/nonexistent}',
  'if [ -d "$h" ] && [ -w "$h" ]; then',
  `  if command -v codex >/dev/null 2>&1; then mkdir -p ${LOGINS_TARGET}/codex "$h/.codex" && { [ -e "$h/.codex/auth.json" ] || [ -L "$h/.codex/auth.json" ] || ln -s ${LOGINS_TARGET}/codex/auth.json "$h/.codex/auth.json"; }; fi`,
  '  for t in "$h"/.claude/* "$h"/.claude/.[!.]* "$h"/.codex/* "$h"/.codex/.[!.]*; do',
  `    if [ -L "$t" ] && [ ! -e "$t" ]; then case $(readlink "$t") in ${HOST_SETTINGS_TARGET}/*) rm -f "$t" ;; esac; fi`,
  '  done',
  'fi',
].join('\n');

/** Part 3 (host agent settings): link each mounted item into ~/.<agent>/. */
const SETTINGS_PART = [
  'h=${HOME:-/nonexistent}',
  'for a in claude codex; do',
  `  s=${HOST_SETTINGS_TARGET}/$a; d="$h/.$a"`,
  '  [ -d "$s" ] && mkdir -p "$d" || continue',
  '  for f in "$s"/* "$s"/.[!.]*; do',
  '    [ -e "$f" ] || continue',
  '    n=${f##*/}; t="$d/$n"',
  '    if [ -L "$t" ] || [ ! -e "$t" ]; then ln -sfn "$f" "$t"',
  '    elif [ ! -e "$t.mino-saved" ] && mv "$t" "$t.mino-saved"; then ln -s "$f" "$t"; echo "mino: this project\'s ~/.$a/$n is now $n.mino-saved; the host\'s is used" >&2',
  '    else echo "mino: this project\'s ~/.$a/$n is kept; the host\'s is not used" >&2',
  '    fi',
  '  done',
  'done',
].join('\n');

/**
 * Last part: a command that cannot run is reported as a shell would (127 not found, 126 not
 * executable) in mino's words, as mino-base's entrypoint does for sessions without a prelude
 * (layers/base/mino-entrypoint): `exec` alone would say `mino-prelude: exec: …: not found`.
 */
const COMMAND_CHECK_PART = [
  'case "$1" in',
  '  */*)',
  '    if [ ! -e "$1" ]; then',
  `      printf 'Error: command not found in the image: %s\\nHint: check the path; mino run -- ls -l %s shows what is there\\n' "$1" "\${1%/*}/" >&2; exit 127`,
  '    elif [ -d "$1" ] || [ ! -x "$1" ]; then',
  `      printf 'Error: command is not executable in the image: %s\\nHint: it is a directory or lacks the execute permission\\n' "$1" >&2; exit 126`,
  '    fi ;;',
  '  *)',
  '    if ! command -v -- "$1" >/dev/null 2>&1; then',
  `      printf "Error: command not found in the image: %s\\nHint: check its name and the image's PATH (%s); install it with a layer (mino layers list)\\n" "$1" "$PATH" >&2; exit 127`,
  '    fi ;;',
  'esac',
].join('\n');

/** Which parts a session's prelude needs. */
export interface PreludeParts {
  /** A session env file is mounted. */
  env: boolean;
  /** Shared logins in an image with a known home (mino images). */
  logins: boolean;
  /** Host agent settings are mounted. */
  settings: boolean;
}

/** The script for `parts`: fixed text, no value of any session is ever part of it. */
export function preludeScript(parts: PreludeParts): string {
  return [
    ...(parts.env ? [ENV_PART] : []),
    ...(parts.logins ? [LOGINS_PART] : []),
    ...(parts.settings ? [SETTINGS_PART] : []),
    COMMAND_CHECK_PART,
    'exec "$@"',
  ].join('\n');
}

/** `command` run through the prelude: `/bin/sh -c <script> mino-prelude <command…>`. */
export function withPrelude(command: readonly string[], parts: PreludeParts): string[] {
  return ['/bin/sh', '-c', preludeScript(parts), PRELUDE_NAME, ...command];
}

/** `command` run through the env part only (for `mino exec` into a session that has a prelude). */
export function withEnvPrelude(command: readonly string[]): string[] {
  return withPrelude(command, { env: true, logins: false, settings: false });
}
