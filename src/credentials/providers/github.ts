import { ProviderError, stderrSummary, type CredentialProvider } from './provider.js';

/**
 * GitHub: `gh auth token [--hostname <host>]`, the flag only for a host other than
 * github.com; never cached. Sets GITHUB_TOKEN and GH_TOKEN. On by default, so "gh is not
 * installed" and "not logged in" are quiet (shown with -v) unless GitHub was asked for.
 */

/** Options of {@link githubProvider}. */
export interface GithubOptions {
  /** `credentials.github.host` (default github.com). */
  host: string;
  explicit: boolean;
}

/** The GitHub provider. */
export function githubProvider(options: GithubOptions): CredentialProvider {
  const argv = ['gh', 'auth', 'token'];
  if (options.host !== 'github.com') argv.push('--hostname', options.host);
  return {
    name: 'github',
    label: 'GitHub',
    argv,
    scope: undefined,
    explicit: options.explicit,
    parse(stdout) {
      const token = stdout.trim();
      if (token === '' || /\s/.test(token)) throw new ProviderError('gh auth token printed no token');
      return { secretEnv: { GITHUB_TOKEN: token, GH_TOKEN: token }, plainEnv: {} };
    },
    failure(exitCode, stderr) {
      if (/not logged in|no oauth token|gh auth login/i.test(stderr)) {
        return new ProviderError(`not logged in to ${options.host} (run: gh auth login)`, !options.explicit);
      }
      return new ProviderError(`gh auth token failed (exit ${exitCode}): ${stderrSummary(stderr)}`);
    },
  };
}
