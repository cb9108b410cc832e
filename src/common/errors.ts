/** Exit code for usage errors (unknown command/flag, invalid argument). */
export const EXIT_USAGE = 2;
/** Exit code for every other failure. */
export const EXIT_FAILURE = 1;

/** Options accepted by {@link MinoError}. */
export interface MinoErrorOptions {
  /** What the user should do next; printed as `Hint: ...`. */
  hint?: string;
  /** Process exit code when this error ends the program (default 1). */
  exitCode?: number;
  /** The underlying error, kept for `-v` diagnostics. */
  cause?: unknown;
}

/**
 * The one error type of mino: a message a person can act on plus an optional hint.
 * The CLI prints `Error: <message>` and `Hint: <hint>` on stderr and exits with `exitCode`.
 */
export class MinoError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: MinoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MinoError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/** A usage error (bad flag, invalid value): exits 2. */
export class UsageError extends MinoError {
  constructor(message: string, hint?: string) {
    super(message, { hint, exitCode: EXIT_USAGE });
    this.name = 'UsageError';
  }
}

/** Returns the message of any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
