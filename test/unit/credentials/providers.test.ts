import { describe, expect, it } from 'vitest';
import { awsProvider } from '../../../src/credentials/providers/aws.js';
import { AZURE_DEFAULT_TTL_MS, azureExpiry, azureProvider } from '../../../src/credentials/providers/azure.js';
import { GCP_TOKEN_TTL_MS, gcpProvider } from '../../../src/credentials/providers/gcp.js';
import { githubProvider } from '../../../src/credentials/providers/github.js';
import { stderrSummary } from '../../../src/credentials/providers/provider.js';
import { thrown } from '../../helpers/thrown.js';

const now = new Date('2026-01-01T00:00:00Z');

describe('GitHub', () => {
  it('runs gh auth token, with --hostname only for another host; never cached', () => {
    expect(githubProvider({ host: 'github.com', explicit: false }).argv).toEqual(['gh', 'auth', 'token']);
    const ghe = githubProvider({ host: 'ghe.example.com', explicit: false });
    expect(ghe.argv).toEqual(['gh', 'auth', 'token', '--hostname', 'ghe.example.com']);
    expect(ghe.scope).toBeUndefined();
  });

  it('sets GITHUB_TOKEN and GH_TOKEN as secrets', () => {
    expect(githubProvider({ host: 'github.com', explicit: false }).parse('gho_abc\n', now)).toEqual({
      secretEnv: { GITHUB_TOKEN: 'gho_abc', GH_TOKEN: 'gho_abc' },
      plainEnv: {},
    });
    expect(thrown(() => githubProvider({ host: 'github.com', explicit: false }).parse('\n', now)).message).toBe(
      'gh auth token printed no token',
    );
  });

  it('is quiet about "not logged in" unless asked for, loud about other failures', () => {
    const p = githubProvider({ host: 'github.com', explicit: false });
    const quiet = p.failure(1, 'You are not logged into any GitHub hosts. To log in, run: gh auth login\n');
    expect(quiet.message).toBe('not logged in to github.com (run: gh auth login)');
    expect(quiet.quiet).toBe(true);
    expect(githubProvider({ host: 'github.com', explicit: true }).failure(1, 'not logged in').quiet).toBe(false);
    const loud = p.failure(2, 'error connecting to api.github.com\n');
    expect(loud.message).toBe('gh auth token failed (exit 2): error connecting to api.github.com');
    expect(loud.quiet).toBe(false);
  });
});

describe('AWS', () => {
  it('uses get-session-token without a role, with profile and region', () => {
    const p = awsProvider({ sessionDurationSecs: 3600, profile: 'dev', region: 'eu-west-1', explicit: true });
    expect(p.argv).toEqual([
      'aws',
      'sts',
      'get-session-token',
      '--duration-seconds',
      '3600',
      '--output',
      'json',
      '--profile',
      'dev',
      '--region',
      'eu-west-1',
    ]);
  });

  it('uses assume-role with the mino-session name and the external id', () => {
    const p = awsProvider({
      sessionDurationSecs: 900,
      roleArn: 'arn:aws:iam::1:role/r',
      externalId: 'ext',
      explicit: true,
    });
    expect(p.argv).toEqual([
      'aws',
      'sts',
      'assume-role',
      '--role-arn',
      'arn:aws:iam::1:role/r',
      '--role-session-name',
      'mino-session',
      '--duration-seconds',
      '900',
      '--output',
      'json',
      '--external-id',
      'ext',
    ]);
  });

  it('scopes the cache by profile, role, external id, region and duration', () => {
    const scope = (o: Partial<Parameters<typeof awsProvider>[0]>) =>
      awsProvider({ sessionDurationSecs: 3600, explicit: true, ...o }).scope;
    expect(scope({ profile: 'a' })).not.toEqual(scope({ profile: 'b' }));
    expect(scope({ roleArn: 'r1' })).not.toEqual(scope({ roleArn: 'r2' }));
    expect(scope({ region: 'x' })).not.toEqual(scope({}));
    expect(scope({ sessionDurationSecs: 900 })).not.toEqual(scope({}));
    expect(scope({ hostProfile: 'h1' })).not.toEqual(scope({ hostProfile: 'h2' }));
    expect(scope({ profile: 'a', hostProfile: 'h1' })).toEqual(scope({ profile: 'a', hostProfile: 'h2' }));
  });

  it('parses STS output into secrets, the region into plain values, and the expiry', () => {
    const p = awsProvider({ sessionDurationSecs: 3600, region: 'us-east-1', explicit: true });
    const c = p.parse(
      JSON.stringify({
        Credentials: {
          AccessKeyId: 'AKIA1',
          SecretAccessKey: 's3cr3t',
          SessionToken: 'tok',
          Expiration: '2026-01-01T01:00:00Z',
        },
      }),
      now,
    );
    expect(c).toEqual({
      secretEnv: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's3cr3t', AWS_SESSION_TOKEN: 'tok' },
      plainEnv: { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' },
      expiresAt: new Date('2026-01-01T01:00:00Z'),
    });
    const noExpiry = p.parse(
      JSON.stringify({
        Credentials: { AccessKeyId: 'a', SecretAccessKey: 'b', SessionToken: 'c', Expiration: 'soon' },
      }),
      now,
    );
    expect(noExpiry.expiresAt).toBeUndefined();
    expect(thrown(() => p.parse('{}', now)).message).toBe('aws sts returned no credentials');
    expect(thrown(() => p.parse('oops', now)).message).toBe('aws sts printed no JSON');
  });

  it('explains an unconfigured CLI', () => {
    const p = awsProvider({ sessionDurationSecs: 3600, explicit: true });
    expect(
      p.failure(253, 'Unable to locate credentials. You can configure credentials by running "aws configure".').message,
    ).toBe('AWS credentials are not configured (run: aws configure, or aws sso login)');
  });
});

describe('GCP', () => {
  it('prints an access token, impersonating a service account when set; cached 55 minutes', () => {
    const p = gcpProvider({ serviceAccount: 'sa@p.iam.gserviceaccount.com', project: 'proj', explicit: true });
    expect(p.argv).toEqual([
      'gcloud',
      'auth',
      'print-access-token',
      '--impersonate-service-account',
      'sa@p.iam.gserviceaccount.com',
    ]);
    expect(p.parse('ya29.x\n', now)).toEqual({
      secretEnv: { CLOUDSDK_AUTH_ACCESS_TOKEN: 'ya29.x' },
      plainEnv: { CLOUDSDK_CORE_PROJECT: 'proj' },
      expiresAt: new Date(now.getTime() + GCP_TOKEN_TTL_MS),
    });
    expect(gcpProvider({ explicit: true, hostAccount: 'a@x' }).scope).not.toEqual(
      gcpProvider({ explicit: true, hostAccount: 'b@x' }).scope,
    );
  });
});

describe('Azure', () => {
  it('asks az for a token for the subscription and tenant', () => {
    const p = azureProvider({ subscription: 'sub', tenant: 'ten', explicit: true });
    expect(p.argv).toEqual([
      'az',
      'account',
      'get-access-token',
      '--output',
      'json',
      '--subscription',
      'sub',
      '--tenant',
      'ten',
    ]);
    expect(p.scope).toEqual({ subscription: 'sub', tenant: 'ten' });
  });

  it("reads expires_on, then expiresOn (RFC 3339 or az's local format), else one hour", () => {
    expect(azureExpiry({ expires_on: 1767229200 })).toEqual(new Date(1767229200 * 1000));
    expect(azureExpiry({ expiresOn: '2026-01-01T02:00:00Z' })).toEqual(new Date('2026-01-01T02:00:00Z'));
    expect(azureExpiry({ expiresOn: '2026-01-01 02:00:00.000000' })?.getTime()).toBe(
      new Date('2026-01-01T02:00:00.000000').getTime(),
    );
    const p = azureProvider({ explicit: true });
    expect(p.parse(JSON.stringify({ accessToken: 'eyJ', expiresOn: 'garbage' }), now).expiresAt).toEqual(
      new Date(now.getTime() + AZURE_DEFAULT_TTL_MS),
    );
    expect(p.parse(JSON.stringify({ accessToken: 'eyJ' }), now).secretEnv).toEqual({ AZURE_ACCESS_TOKEN: 'eyJ' });
  });
});

describe('stderr summaries', () => {
  it('picks the error line, strips control characters and shortens', () => {
    expect(stderrSummary('debug stuff\nERROR: bad thing\nmore\n')).toBe('ERROR: bad thing');
    expect(stderrSummary('\u001b[31mred\u001b[0m')).toBe(' [31mred [0m');
    expect(stderrSummary('x'.repeat(300)).length).toBe(201);
  });
});
