import { CommandNotFoundError, execCapture, type ExecOptions, type ExecResult } from '../common/exec.js';
import { log } from '../common/logger.js';
import type { CredentialCache } from './credential-cache.js';
import { ProviderError, type Credential, type CredentialProvider, type ProviderName } from './providers/provider.js';

/**
 * Runs the enabled credential providers for one session: all at once (never one after another),
 * each at most {@link PROVIDER_TIMEOUT_MS}, a cached token first when there is a valid one. A
 * provider never fails the run here: its outcome says what happened, and the caller turns
 * failures into warnings (or one error under `--strict-credentials`).
 */

/** How long a provider CLI may take before mino gives up on it. */
const PROVIDER_TIMEOUT_MS = 15_000;

/** What happened to one provider. */
export type ProviderOutcome =
  | { provider: ProviderName; label: string; status: 'ok' | 'cached'; credential: Credential }
  | { provider: ProviderName; label: string; status: 'failed'; message: string; quiet: boolean };

/** The process runner (execCapture; a test may pass its own). */
export type Runner = (argv: readonly string[], options: ExecOptions) => Promise<ExecResult>;

/** Options of {@link runProviders}. */
export interface RunProvidersOptions {
  cache: CredentialCache;
  /** Environment of the CLIs (mino's own). */
  env: NodeJS.ProcessEnv;
  now?: () => Date;
  timeoutMs?: number;
  run?: Runner;
}

/** Runs `providers` in parallel; outcomes in the same order. */
export function runProviders(
  providers: readonly CredentialProvider[],
  options: RunProvidersOptions,
): Promise<ProviderOutcome[]> {
  return Promise.all(providers.map((p) => runOne(p, options)));
}

async function runOne(p: CredentialProvider, options: RunProvidersOptions): Promise<ProviderOutcome> {
  const now = options.now ?? (() => new Date());
  const base = { provider: p.name, label: p.label };
  if (p.scope !== undefined) {
    const cached = options.cache.get(p.name, p.scope, now());
    if (cached) {
      log.info('credentials from cache', { provider: p.name });
      return { ...base, status: 'cached', credential: cached };
    }
  }
  const timeoutMs = options.timeoutMs ?? PROVIDER_TIMEOUT_MS;
  const started = Date.now();
  try {
    const result = await withDeadline(
      (options.run ?? execCapture)(p.argv, { env: options.env, timeoutMs }),
      timeoutMs + 3000,
    );
    // Whether the timeout stopped the CLI is what the runner says, never a clock reading: a kill
    // that lands a millisecond early must not turn into "gh auth token failed (exit 143)".
    if (result === 'deadline' || result.timedOut === true) {
      return {
        ...base,
        status: 'failed',
        message: `${p.argv[0]} did not answer within ${Math.round(timeoutMs / 1000)} s; skipped`,
        quiet: false,
      };
    }
    log.debug('credential provider ran', { provider: p.name, exit_code: result.exitCode, ms: Date.now() - started });
    if (result.exitCode !== 0) {
      const err = p.failure(result.exitCode, result.stderr);
      return { ...base, status: 'failed', message: err.message, quiet: err.quiet };
    }
    const credential = p.parse(result.stdout, now());
    if (p.scope !== undefined && credential.expiresAt) {
      try {
        options.cache.put(p.name, p.scope, credential, now());
      } catch (err) {
        log.warn('could not cache credentials', { provider: p.name, error: (err as Error).message });
      }
    }
    return { ...base, status: 'ok', credential };
  } catch (err) {
    if (err instanceof CommandNotFoundError) {
      return {
        ...base,
        status: 'failed',
        message: `${p.argv[0]} is not installed (or not on PATH)`,
        quiet: !p.explicit,
      };
    }
    if (err instanceof ProviderError) return { ...base, status: 'failed', message: err.message, quiet: err.quiet };
    return {
      ...base,
      status: 'failed',
      message: `${p.argv[0]} could not be run: ${(err as Error).message}`,
      quiet: false,
    };
  }
}

/** Resolves with 'deadline' when `promise` has not settled after `ms` (a stuck pipe cannot hold mino). */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
