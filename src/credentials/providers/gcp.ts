import { ProviderError, stderrSummary, type CredentialProvider } from './provider.js';

/**
 * GCP: `gcloud auth print-access-token [--impersonate-service-account <sa>]`, cached
 * for 55 minutes per account (the service account, or the host's active account selection via
 * CLOUDSDK_CORE_ACCOUNT / CLOUDSDK_CONFIG). Sets CLOUDSDK_AUTH_ACCESS_TOKEN, plus
 * CLOUDSDK_CORE_PROJECT when `project` is set.
 */

/** `[credentials.gcp]`. */
export interface GcpOptions {
  project?: string;
  serviceAccount?: string;
  explicit: boolean;
  /** The host's CLOUDSDK_CORE_ACCOUNT and CLOUDSDK_CONFIG, which select the account. */
  hostAccount?: string;
  hostConfigDir?: string;
}

/** Lifetime mino assumes for a gcloud access token (they last 60 minutes). */
export const GCP_TOKEN_TTL_MS = 55 * 60 * 1000;

/** The GCP provider. */
export function gcpProvider(options: GcpOptions): CredentialProvider {
  const argv = ['gcloud', 'auth', 'print-access-token'];
  if (options.serviceAccount !== undefined) argv.push('--impersonate-service-account', options.serviceAccount);
  const scope: Record<string, string> = {};
  if (options.serviceAccount !== undefined) scope.service_account = options.serviceAccount;
  if (options.hostAccount) scope.host_account = options.hostAccount;
  if (options.hostConfigDir) scope.host_config = options.hostConfigDir;
  return {
    name: 'gcp',
    label: 'GCP',
    argv,
    scope,
    explicit: options.explicit,
    parse(stdout, now) {
      const token = stdout.trim();
      if (token === '' || /\s/.test(token)) throw new ProviderError('gcloud printed no access token');
      return {
        secretEnv: { CLOUDSDK_AUTH_ACCESS_TOKEN: token },
        plainEnv:
          options.project !== undefined ? { CLOUDSDK_CORE_PROJECT: options.project } : ({} as Record<string, string>),
        expiresAt: new Date(now.getTime() + GCP_TOKEN_TTL_MS),
      };
    },
    failure(exitCode, stderr) {
      if (/gcloud auth login|no credentialed accounts|not logged in/i.test(stderr)) {
        return new ProviderError('gcloud has no logged-in account (run: gcloud auth login)');
      }
      return new ProviderError(`gcloud auth print-access-token failed (exit ${exitCode}): ${stderrSummary(stderr)}`);
    },
  };
}
