import { ProviderError, stderrSummary, type Credential, type CredentialProvider } from './provider.js';

/**
 * AWS: short-lived credentials from STS.
 * - With `role_arn`: `aws sts assume-role --role-arn <arn> --role-session-name mino-session
 *   --duration-seconds <n> --output json [--external-id <id>] [--profile <p>] [--region <r>]`.
 * - Else: `aws sts get-session-token --duration-seconds <n> --output json [--profile] [--region]`.
 * Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, and AWS_REGION +
 * AWS_DEFAULT_REGION when a region is set. Cached until `Expiration`, per profile, role,
 * external id, region and duration (mino 1.6 used one key for all: a second profile got the
 * first one's credentials), and per the host's AWS_PROFILE when no profile is configured.
 */

/** `[credentials.aws]`. */
export interface AwsOptions {
  sessionDurationSecs: number;
  roleArn?: string;
  externalId?: string;
  profile?: string;
  region?: string;
  explicit: boolean;
  /** The host's AWS_PROFILE (what the CLI uses without --profile). */
  hostProfile?: string;
}

interface StsOutput {
  Credentials?: { AccessKeyId?: unknown; SecretAccessKey?: unknown; SessionToken?: unknown; Expiration?: unknown };
}

/** The AWS provider. */
export function awsProvider(options: AwsOptions): CredentialProvider {
  const duration = String(options.sessionDurationSecs);
  const argv =
    options.roleArn !== undefined
      ? [
          'aws',
          'sts',
          'assume-role',
          '--role-arn',
          options.roleArn,
          '--role-session-name',
          'mino-session',
          '--duration-seconds',
          duration,
          '--output',
          'json',
        ]
      : ['aws', 'sts', 'get-session-token', '--duration-seconds', duration, '--output', 'json'];
  if (options.roleArn !== undefined && options.externalId !== undefined) argv.push('--external-id', options.externalId);
  if (options.profile !== undefined) argv.push('--profile', options.profile);
  if (options.region !== undefined) argv.push('--region', options.region);
  const scope: Record<string, string> = { duration };
  if (options.roleArn !== undefined) scope.role_arn = options.roleArn;
  if (options.externalId !== undefined) scope.external_id = options.externalId;
  if (options.profile !== undefined) scope.profile = options.profile;
  else if (options.hostProfile) scope.host_profile = options.hostProfile;
  if (options.region !== undefined) scope.region = options.region;
  return {
    name: 'aws',
    label: 'AWS',
    argv,
    scope,
    explicit: options.explicit,
    parse(stdout): Credential {
      let parsed: StsOutput;
      try {
        parsed = JSON.parse(stdout) as StsOutput;
      } catch {
        throw new ProviderError('aws sts printed no JSON');
      }
      const c = parsed?.Credentials;
      const strings = [c?.AccessKeyId, c?.SecretAccessKey, c?.SessionToken];
      if (!strings.every((v) => typeof v === 'string' && v !== ''))
        throw new ProviderError('aws sts returned no credentials');
      const [id, secret, token] = strings as string[];
      const expires = typeof c?.Expiration === 'string' ? new Date(c.Expiration) : undefined;
      const plainEnv: Record<string, string> = {};
      if (options.region !== undefined) {
        plainEnv.AWS_REGION = options.region;
        plainEnv.AWS_DEFAULT_REGION = options.region;
      }
      return {
        secretEnv: { AWS_ACCESS_KEY_ID: id!, AWS_SECRET_ACCESS_KEY: secret!, AWS_SESSION_TOKEN: token! },
        plainEnv,
        ...(expires && !Number.isNaN(expires.getTime()) ? { expiresAt: expires } : {}),
      };
    },
    failure(exitCode, stderr) {
      if (/Unable to locate credentials|not configured|could not be found|aws configure/i.test(stderr)) {
        return new ProviderError('AWS credentials are not configured (run: aws configure, or aws sso login)');
      }
      if (/ExpiredToken|expired/i.test(stderr))
        return new ProviderError(`the AWS session has expired: ${stderrSummary(stderr)}`);
      return new ProviderError(`aws sts failed (exit ${exitCode}): ${stderrSummary(stderr)}`);
    },
  };
}
