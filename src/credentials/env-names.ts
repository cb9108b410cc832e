/**
 * Environment variable names: which are valid, and which never hold a secret. Everything the
 * credentials step passes that is not known to be harmless travels in the session env file (see
 * session-env-file.ts), never as a plain `-e` argument.
 */

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Locale, terminal and time-zone variables: never secrets, passed as plain `-e` values. */
const PLAIN_NAME = /^(LANG|LANGUAGE|LC_[A-Z_]+|TZ|TERM|COLORTERM|NO_COLOR|FORCE_COLOR|CLICOLOR|CLICOLOR_FORCE)$/;

/** True for a valid variable name (letters, digits, `_`, not starting with a digit). */
export function isEnvName(name: string): boolean {
  return ENV_NAME.test(name);
}

/**
 * True for variables known to hold no secret (LANG, LC_*, TZ, TERM, ...). Any other variable a
 * user passes from the host may be a secret (`DATABASE_URL` carries a password), so it is
 * delivered like one.
 */
export function isPlainVariable(name: string): boolean {
  return PLAIN_NAME.test(name);
}
