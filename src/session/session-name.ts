import { MinoError } from '../common/errors.js';
import { printable } from '../runtime/validate.js';

/** Longest session name: it becomes a file name and the container name `mino-<name>`. */
export const MAX_SESSION_NAME = 128;

const SESSION_NAME = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_SESSION_NAME}}$`);

/**
 * Checks a session name (mino 1.6 rules: letters, digits, `_` and `-`; so no `/`, `\`, `..`
 * or NUL) plus a length limit. Returns the name or throws a MinoError with a hint.
 */
export function validateSessionName(name: string): string {
  if (SESSION_NAME.test(name)) return name;
  const why = name.length === 0
    ? 'it is empty'
    : name.length > MAX_SESSION_NAME
      ? `it is longer than ${MAX_SESSION_NAME} characters`
      : 'only letters, digits, \'_\' and \'-\' are allowed';
  throw new MinoError(`Invalid session name '${printable(name)}': ${why}`, {
    hint: 'Choose a name like my-task_1 with -n/--name, or leave it out for a generated one',
    exitCode: 2,
  });
}

/** A generated name: `session-` and the first 8 hex digits of a random UUID (as mino 1.6). */
export function defaultSessionName(): string {
  return `session-${globalThis.crypto.randomUUID().slice(0, 8)}`;
}
