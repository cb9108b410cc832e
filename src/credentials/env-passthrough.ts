import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { isEnvName, isPlainVariable } from './env-names.js';

/**
 * Host variables a session receives without `-e`: `container.env_passthrough` (mino 1.6's
 * `env_passthrough`: the agents' API keys, locale, time zone, terminal) and `-e KEY` without a
 * value (docker's and podman's "take it from my environment"). Values that may be secrets are
 * returned apart from the harmless ones, so the caller can deliver them outside argv.
 */

/** Host values selected for a session. */
export interface HostValues {
  /** Harmless values (LANG, TZ, TERM, ...), for plain `-e`. */
  plain: Map<string, string>;
  /** Everything else, for the session env file. */
  secret: Map<string, string>;
}

/** `-e/--env` arguments split into `KEY=VALUE` assignments and bare `KEY` names. */
export interface CliEnvSplit {
  assignments: string[];
  /** Names whose value comes from mino's environment, in command-line order, without duplicates. */
  fromHost: string[];
}

/**
 * Splits `-e` values: `KEY=VALUE` stays an assignment (checked later by the plan), a bare `KEY`
 * must be a valid variable name (UsageError, exit 2, otherwise).
 */
export function splitCliEnv(args: readonly string[]): CliEnvSplit {
  const assignments: string[] = [];
  const fromHost: string[] = [];
  for (const arg of args) {
    if (arg.includes('=')) {
      assignments.push(arg);
      continue;
    }
    if (!isEnvName(arg)) {
      throw new UsageError(
        `Invalid --env '${printable(arg)}': expected KEY=VALUE, or KEY to pass mino's own value of KEY`,
        'Names use letters, digits and underscores and do not start with a digit',
      );
    }
    if (!fromHost.includes(arg)) fromHost.push(arg);
  }
  return { assignments, fromHost };
}

/** The names of the variables the `KEY=VALUE` assignments set. */
export function assignedNames(assignments: readonly string[]): Set<string> {
  return new Set(assignments.map((a) => a.slice(0, a.indexOf('='))));
}

/**
 * Looks `names` up in the host environment. Unset names are skipped (and listed in `missing`);
 * values with a NUL byte cannot be passed and are listed in `invalid`.
 */
export function takeFromHost(
  names: readonly string[],
  hostEnv: NodeJS.ProcessEnv,
  options: { allSecret?: boolean } = {},
): HostValues & { missing: string[]; invalid: string[] } {
  const plain = new Map<string, string>();
  const secret = new Map<string, string>();
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    const value = Object.hasOwn(hostEnv, name) ? hostEnv[name] : undefined;
    if (value === undefined) {
      missing.push(name);
      continue;
    }
    if (value.includes('\0')) {
      invalid.push(name);
      continue;
    }
    if (!options.allSecret && isPlainVariable(name)) plain.set(name, value);
    else secret.set(name, value);
  }
  return { plain, secret, missing, invalid };
}
