import { MinoError, UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Plain (non-secret) container environment: parsing `-e KEY=VALUE` and merging the sources in
 * mino 1.6's precedence, last wins: config `container.env` < CLI `-e` (in command-line order), then
 * variables mino forces. Values end up as literal `-e K=V` arguments, visible in `ps` and
 * `podman inspect`, so credentials never go here (see secret-passthrough.ts).
 */

const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Forced to `1` when the run is detached or has a command: the image's bootstrap prints less. */
const QUIET_BOOTSTRAP_VAR = 'MINO_QUIET_BOOTSTRAP';

/**
 * Parses one CLI `-e/--env KEY=VALUE` value: split on the first `=`; the key must be a valid
 * variable name, the value may be empty or contain further `=`. Throws a UsageError (exit 2)
 * otherwise. A bare `-e KEY` (mino's own value of KEY) never reaches the plan as plain env: the
 * credentials step delivers it in the session env file (credentials/env-passthrough.ts).
 */
export function parseEnvArg(arg: string): [key: string, value: string] {
  const eq = arg.indexOf('=');
  if (eq < 0) {
    throw new UsageError(
      `Invalid --env '${printable(arg)}': expected KEY=VALUE`,
      "Write -e NAME=value, or -e NAME to pass mino's own value of NAME without showing it",
    );
  }
  const key = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  if (!ENV_KEY.test(key)) {
    throw new UsageError(
      `Invalid --env '${printable(arg)}': '${printable(key)}' is not a valid variable name`,
      'Names use letters, digits and underscores and do not start with a digit',
    );
  }
  if (value.includes('\0')) throw new UsageError(`Invalid --env '${printable(arg)}': the value contains a NUL byte`);
  return [key, value];
}

/** Checks one config `container.env` entry; throws a MinoError naming the config key. */
function checkConfigEnv(key: string, value: string): void {
  if (!ENV_KEY.test(key)) {
    throw new MinoError(`Invalid environment variable name '${printable(key)}' in config container.env`, {
      hint: 'Names use letters, digits and underscores and do not start with a digit',
    });
  }
  if (typeof value !== 'string' || value.includes('\0')) {
    throw new MinoError(`Invalid value for ${key} in config container.env: expected a string without NUL bytes`);
  }
}

/** Options of {@link mergeEnv}. */
export interface MergeEnvOptions {
  /** Layer `[env]`, `MINO_PATH_PREPEND`, `MINO_LAYER_MANIFEST` (lowest precedence; validated by the layer loader). */
  layerEnv?: Readonly<Record<string, string>>;
  /** Harmless host values passed through (`container.env_passthrough`: LANG, TZ, TERM...). */
  hostEnv?: Readonly<Record<string, string>>;
  /** Config `container.env`. */
  configEnv?: Readonly<Record<string, string>>;
  /** Plain values of the credentials step (AWS_REGION, SSH_AUTH_SOCK, proxy placeholders): above config, below `-e`. */
  credentialEnv?: Readonly<Record<string, string>>;
  /** CLI `-e` values, in command-line order (a later one wins). */
  cliEnv?: readonly string[];
  /** Set `MINO_QUIET_BOOTSTRAP=1` after everything else (detached runs and runs with a command). */
  quietBootstrap: boolean;
}

/**
 * The merged plain environment: layers < host passthrough < config < credentials < CLI (last
 * wins), then the forced variables. A key keeps
 * the position of its first appearance; the order never changes meaning since each key is set once.
 */
export function mergeEnv(options: MergeEnvOptions): Record<string, string> {
  // A Map, so that a key such as `__proto__` is an ordinary variable, not the object prototype.
  const env = new Map<string, string>(Object.entries(options.layerEnv ?? {}));
  for (const [key, value] of Object.entries(options.hostEnv ?? {})) env.set(key, value);
  for (const [key, value] of Object.entries(options.configEnv ?? {})) {
    checkConfigEnv(key, value);
    env.set(key, value);
  }
  for (const [key, value] of Object.entries(options.credentialEnv ?? {})) env.set(key, value);
  for (const arg of options.cliEnv ?? []) {
    const [key, value] = parseEnvArg(arg);
    env.set(key, value);
  }
  if (options.quietBootstrap) env.set(QUIET_BOOTSTRAP_VAR, '1');
  return Object.fromEntries(env);
}
