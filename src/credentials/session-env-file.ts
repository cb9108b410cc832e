import { MinoError } from '../common/errors.js';
import { isEnvName } from './env-names.js';

/**
 * The session env file: every secret value of a session (provider tokens, passed-through API
 * keys, `-e KEY`) in one file that mino writes in its private directory and podman bind-mounts
 * read-only at {@link SESSION_ENV_PATH}; the session prelude (session-prelude.ts) sources it
 * right before the command starts. The values so appear in the command's environment without
 * ever being on a command line (`ps`), in `podman inspect` (which shows only the mount), in the
 * session JSON, the audit log or mino's logs.
 *
 * Why not podman secrets: `--secret …,type=env` values are shown in `podman inspect`
 * (Config.Env) by podman before 5.3, measured here on 4.3.1; `type=mount` secrets avoid that but
 * cost a `secret create` and a `secret rm` per session (about 300 ms here, +30 % on `mino run --
 * true`), where a file costs nothing.
 */

/** Where the session env file appears inside the container. */
export const SESSION_ENV_PATH = '/run/secrets/mino-env';

/** `value` as one single-quoted POSIX shell word (`'` written as `'\''`). */
export function shellSingleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The file's text: one `export NAME='value'` line per variable, in map order. Sourcing it sets
 * exactly these values (newlines, quotes and `$` included). Throws for an invalid name or a NUL.
 */
export function renderEnvFile(values: ReadonlyMap<string, string>): string {
  let text = '';
  for (const [name, value] of values) {
    if (!isEnvName(name)) throw new MinoError(`Internal error: invalid variable name for the session env file`);
    if (value.includes('\0')) throw new MinoError(`The value of ${name} contains a NUL byte and cannot be passed`);
    text += `export ${name}=${shellSingleQuote(value)}\n`;
  }
  return text;
}
