import { ProviderError, stderrSummary, type CredentialProvider } from './provider.js';

/**
 * Azure: `az account get-access-token --output json [--subscription <s>]
 * [--tenant <t>]`. Sets AZURE_ACCESS_TOKEN. Expiry from `expires_on` (POSIX seconds, newer az),
 * else `expiresOn` (RFC 3339, or az's local "YYYY-MM-DD HH:MM:SS.ffffff"), else one hour.
 * Cached per subscription, tenant and the host's AZURE_CONFIG_DIR.
 */

/** `[credentials.azure]`. */
export interface AzureOptions {
  subscription?: string;
  tenant?: string;
  explicit: boolean;
  hostConfigDir?: string;
}

/** Lifetime assumed when az prints no usable expiry. */
export const AZURE_DEFAULT_TTL_MS = 60 * 60 * 1000;

interface AzOutput {
  accessToken?: unknown;
  expiresOn?: unknown;
  expires_on?: unknown;
}

/** The expiry az printed, or undefined. */
export function azureExpiry(out: AzOutput): Date | undefined {
  const epoch =
    typeof out.expires_on === 'number'
      ? out.expires_on
      : typeof out.expires_on === 'string'
        ? Number(out.expires_on)
        : NaN;
  if (Number.isFinite(epoch) && epoch > 0) return new Date(epoch * 1000);
  if (typeof out.expiresOn === 'string') {
    // az's own format is local time without a zone: Date parses "YYYY-MM-DDTHH:MM:SS" as local.
    const text = /^\d{4}-\d{2}-\d{2} \d/.test(out.expiresOn) ? out.expiresOn.replace(' ', 'T') : out.expiresOn;
    const d = new Date(text);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return undefined;
}

/** The Azure provider. */
export function azureProvider(options: AzureOptions): CredentialProvider {
  const argv = ['az', 'account', 'get-access-token', '--output', 'json'];
  if (options.subscription !== undefined) argv.push('--subscription', options.subscription);
  if (options.tenant !== undefined) argv.push('--tenant', options.tenant);
  const scope: Record<string, string> = {};
  if (options.subscription !== undefined) scope.subscription = options.subscription;
  if (options.tenant !== undefined) scope.tenant = options.tenant;
  if (options.hostConfigDir) scope.host_config = options.hostConfigDir;
  return {
    name: 'azure',
    label: 'Azure',
    argv,
    scope,
    explicit: options.explicit,
    parse(stdout, now) {
      let out: AzOutput;
      try {
        out = JSON.parse(stdout) as AzOutput;
      } catch {
        throw new ProviderError('az printed no JSON');
      }
      if (typeof out?.accessToken !== 'string' || out.accessToken === '')
        throw new ProviderError('az returned no access token');
      return {
        secretEnv: { AZURE_ACCESS_TOKEN: out.accessToken },
        plainEnv: {},
        expiresAt: azureExpiry(out) ?? new Date(now.getTime() + AZURE_DEFAULT_TTL_MS),
      };
    },
    failure(exitCode, stderr) {
      if (/az login|Please run 'az login'|no subscriptions/i.test(stderr))
        return new ProviderError('az is not logged in (run: az login)');
      return new ProviderError(`az account get-access-token failed (exit ${exitCode}): ${stderrSummary(stderr)}`);
    },
  };
}
