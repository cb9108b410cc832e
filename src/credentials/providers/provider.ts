/**
 * A credential provider: a host CLI (gh, aws, gcloud, az) that prints a token, and how mino
 * turns its output into environment variables for a session. Pure descriptions: running them,
 * the timeout and the cache are the runner's (provider-runner.ts).
 */

/** Provider names, as on the command line (`--aws`, `--gcp`, `--azure`; GitHub on by default). */
export type ProviderName = 'github' | 'aws' | 'gcp' | 'azure';

/** What a provider produced for a session. */
export interface Credential {
  /** Secret variables (tokens, keys): delivered through the session env file only. */
  secretEnv: Record<string, string>;
  /** Harmless companions (AWS_REGION, CLOUDSDK_CORE_PROJECT): plain `-e`. */
  plainEnv: Record<string, string>;
  /** When the token stops working; undefined = unknown (not cached). */
  expiresAt?: Date;
}

/** A provider failure with a message for people (never containing the CLI's stdout). */
export class ProviderError extends Error {
  /**
   * @param quiet true for "not set up here" conditions of a provider nobody asked for explicitly
   *   (GitHub is on by default): reported with -v only, not as a warning.
   */
  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** One configured provider. */
export interface CredentialProvider {
  name: ProviderName;
  /** For messages: `GitHub`, `AWS`, `GCP`, `Azure`. */
  label: string;
  /** The CLI's argv (no shell). */
  argv: string[];
  /**
   * What the token depends on (profile, role, region, account, host...): the cache key. Undefined
   * for providers that are never cached (GitHub, as in mino 1.6: `gh auth token` is local and fast).
   */
  scope: Record<string, string> | undefined;
  /** Parses the CLI's stdout; throws a ProviderError. */
  parse(stdout: string, now: Date): Credential;
  /** The message for a failed run (exit code and stderr); a ProviderError. */
  failure(exitCode: number, stderr: string): ProviderError;
  /** True when the user asked for this provider explicitly (flag or config). */
  explicit: boolean;
}

/** The last meaningful line of a CLI's stderr, shortened, for a warning. */
export function stderrSummary(stderr: string, max = 200): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const last = lines.find((l) => /error|denied|expired|invalid|not /i.test(l)) ?? lines[lines.length - 1] ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = last.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
