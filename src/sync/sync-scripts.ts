/**
 * The shell scripts the sync helper container runs on the engine, next to the project volume
 * (mounted at {@link VOLUME_TARGET}). They are constants: every value (the token, the exclusion
 * patterns) arrives as a positional parameter, never as code. They need only what BusyBox and
 * Debian's minbase both have: sh, tar, find, stat, awk, tr, date.
 *
 * Both print, on stdout, what the volume holds after their work: the token line, the engine's
 * clock, then one `<hex mode> <size> <mtime> ./<path>` line per entry (excluded paths pruned).
 */

/** Where the helper mounts the project volume. */
export const VOLUME_TARGET = '/mino-project';

/** `find` over the volume with the exclusions of "$@" pruned, one stat line per entry. */
const LIST = `list() {
  set -- -path ./.mino-sync -prune -o "$@"
  find . -mindepth 1 "$@" -exec stat -c '%f %s %Y %n' {} +
}
excl() {
  for a in "$@"; do
    case $a in */*) printf '%s %s\\n' -path "./$a" ;; *) printf '%s %s\\n' -name "$a" ;; esac
  done
}`;

/**
 * Receives a shipment: a tar on stdin holding `.mino-sync/delete` (paths to remove, one a line)
 * and the changed entries. Arguments: `<token> <reset 0|1> <exclude>...`. With reset, whatever
 * the volume held is removed first (mino has no record of it).
 */
export const SHIP_SCRIPT = `set -eu
${LIST}
cd ${VOLUME_TARGET}
token=$1; reset=$2; shift 2
if [ "$reset" = 1 ]; then find . -mindepth 1 -maxdepth 1 ! -name .mino-sync -exec rm -rf {} +; fi
mkdir -p .mino-sync
rm -f .mino-sync/delete
tar -x -f -
if [ -f .mino-sync/delete ]; then
  while IFS= read -r p; do rm -rf "./$p"; done < .mino-sync/delete
  rm -f .mino-sync/delete
fi
printf '%s\\n' "$token" > .mino-sync/token
printf 'token %s\\n' "$token"
date +%s
set --$(excl "$@" | while IFS= read -r w; do printf ' %s -prune -o' "$w"; done)
list "$@"
`;

/**
 * Sends back what changed: stdin is the last listing mino knows (after a `#` line; no such line,
 * an empty stdin included, and the helper exits at once without listing: a return trip started
 * early and then called off, see bring-back.ts startBringBack); stdout a tar
 * whose first entry is `.mino-sync/list` (token, clock, listing) followed by every file and
 * symlink whose listing line differs. Arguments: `<exclude>...`.
 */
export const BACK_SCRIPT = `set -eu
${LIST}
cd ${VOLUME_TARGET}
mkdir -p .mino-sync
IFS= read -r first || exit 0
[ "$first" = '#' ] || exit 0
cat > .mino-sync/expected
{ printf 'token %s\\n' "$(cat .mino-sync/token 2>/dev/null || echo none)"; date +%s; } > .mino-sync/list
set --$(excl "$@" | while IFS= read -r w; do printf ' %s -prune -o' "$w"; done)
list "$@" >> .mino-sync/list
awk 'NR == FNR { seen[$0] = 1; next }
  FNR > 2 && !($0 in seen) { t = substr($1, 1, 1); if (t == "8" || t == "a") { sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); print } }' \\
  .mino-sync/expected .mino-sync/list > .mino-sync/changed
{ echo ./.mino-sync/list; cat .mino-sync/changed; } | tr '\\n' '\\0' | xargs -0 tar -c -f -
`;
