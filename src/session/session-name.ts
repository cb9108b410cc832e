import { EXIT_USAGE, MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Longest accepted session name. mino 1.6 has no limit; we add one because the name is used
 * verbatim in places where length matters: the container name `mino-<name>` (a column of
 * `podman ps`, typed by hand in `podman logs/exec`) and the file names
 * `<name>.json`, `.<name>.lock` and the atomic-write temporaries `.<name>.json.<pid>.<hex>.tmp`
 * in the sessions directory, which must stay well below NAME_MAX (255 bytes). 64 characters
 * is plenty for a human-chosen name and leaves room for every derived name.
 */
export const MAX_SESSION_NAME = 64;

/** Letters, digits, `_` and `-`, not starting with `-` (a name like `-x` reads as an option later). */
const VALID = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

const HINT = "Use only letters, digits, '_' and '-' (e.g. -n my-task_1), or leave -n out for a generated name";

function why(name: string): string {
  if (name.length === 0) return 'it must not be empty';
  if (name.includes('\0')) return 'it must not contain a NUL byte';
  if (name.includes('/') || name.includes('\\') || name.includes('..')) {
    return "it must not contain path separators or '..'";
  }
  if (name.startsWith('-')) return "it must not start with '-' (it would be read as an option)";
  if (!VALID.test(name)) return "it must contain only letters, digits, '_' and '-'";
  return `it is longer than ${MAX_SESSION_NAME} characters`;
}

/**
 * Checks a session name with the rules of mino 1.6 (non-empty; only `[A-Za-z0-9_-]`, so no
 * `/`, `\`, `..` or NUL) plus a length limit of {@link MAX_SESSION_NAME} and no leading `-`.
 * Returns the name unchanged, or throws a MinoError (exit code 2) with a hint:
 * `Invalid session name '<name>': <reason>`, the name shown with control characters escaped.
 */
export function validateSessionName(name: string): string {
  if (VALID.test(name) && name.length <= MAX_SESSION_NAME) return name;
  throw new MinoError(`Invalid session name '${printable(name)}': ${why(name)}`, { hint: HINT, exitCode: EXIT_USAGE });
}

/** True when {@link validateSessionName} would accept the name. */
export function isValidSessionName(name: string): boolean {
  return VALID.test(name) && name.length <= MAX_SESSION_NAME;
}

/**
 * A generated session name as mino 1.6 makes it: `session-` plus the first 8 hex digits of a
 * random v4 UUID (node:crypto's randomUUID, which is cheaper to load than the uuid package).
 */
export function defaultSessionName(): string {
  return `session-${globalThis.crypto.randomUUID().slice(0, 8)}`;
}
