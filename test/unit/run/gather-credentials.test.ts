import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enabledProviders, gatherCredentials, type GatherInput } from '../../../src/run/gather-credentials.js';
import { MinoError, UsageError } from '../../../src/common/errors.js';
import type { ExecResult } from '../../../src/common/exec.js';
import { configSchema } from '../../../src/config/config-schema.js';
import type { RunConfig } from '../../../src/config/run-config.js';
import type { Runner } from '../../../src/credentials/provider-runner.js';
import { proxyMarks } from '../../../src/credentials/proxy-credential.js';

const credentials = configSchema().parse({}).credentials;

function config(overrides: Partial<RunConfig> = {}): RunConfig {
  return { layerProjectDir: undefined, credentials, ...overrides };
}

const fakeClis: Runner = async (argv): Promise<ExecResult> => {
  const out = (stdout: string): ExecResult => ({ stdout, stderr: '', exitCode: 0, signal: null });
  switch (argv[0]) {
    case 'gh':
      return out('gho_FAKE\n');
    case 'aws':
      return out(
        JSON.stringify({
          Credentials: {
            AccessKeyId: 'AKIA',
            SecretAccessKey: 'aws-secret',
            SessionToken: 'aws-token',
            Expiration: '2999-01-01T00:00:00Z',
          },
        }),
      );
    default:
      return { stdout: '', stderr: 'ERROR: nope', exitCode: 1, signal: null };
  }
};

function input(overrides: Partial<GatherInput> = {}): GatherInput {
  const state = mkdtempSync(join(tmpdir(), 'mino-gather-'));
  return {
    flags: {},
    config: config(),
    cliEnv: [],
    hostEnv: {},
    homeDir: '/nonexistent-home',
    stateDir: state,
    stateKey: 'k',
    run: fakeClis,
    ...overrides,
  };
}

describe('which providers run', () => {
  it('GitHub unless --no-github or disabled in config; clouds by flag, --all-clouds or config', () => {
    const names = (flags: GatherInput['flags'], c = config()) => enabledProviders(flags, c, {}).map((p) => p.name);
    expect(names({})).toEqual(['github']);
    expect(names({ github: false })).toEqual([]);
    expect(
      names({}, config({ credentials: { ...credentials, github: { enabled: false, host: 'github.com' } } })),
    ).toEqual([]);
    expect(names({ aws: true, azure: true })).toEqual(['github', 'aws', 'azure']);
    expect(names({ allClouds: true })).toEqual(['github', 'aws', 'gcp', 'azure']);
    expect(names({}, config({ credentials: { ...credentials, gcp: { enabled: true } } }))).toEqual(['github', 'gcp']);
  });

  it('refuses --all-clouds with a named cloud', () => {
    expect(() => enabledProviders({ allClouds: true, aws: true }, config(), {})).toThrow(UsageError);
  });
});

describe("gathering a session's credentials", () => {
  it('collects provider secrets, passthrough values and -e KEY, with -e KEY=VALUE above all', async () => {
    const g = await gatherCredentials(
      input({
        flags: { aws: true },
        cliEnv: ['MY_SECRET', 'GH_TOKEN=explicit', 'A=1'],
        hostEnv: { MY_SECRET: 'ms', ANTHROPIC_API_KEY: 'sk-ant', LANG: 'C.UTF-8', OPENAI_API_KEY: 'sk-oai' },
        config: config({ env: { OPENAI_API_KEY: 'from-config' } }),
      }),
    );
    expect(Object.fromEntries(g.secretValues)).toEqual({
      ANTHROPIC_API_KEY: 'sk-ant',
      GITHUB_TOKEN: 'gho_FAKE',
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      AWS_SESSION_TOKEN: 'aws-token',
      MY_SECRET: 'ms',
    });
    expect(g.hostEnv).toEqual({ LANG: 'C.UTF-8' });
    expect(g.providers).toEqual(['github', 'aws']);
    expect(g.passthrough.sort()).toEqual(['ANTHROPIC_API_KEY', 'LANG']);
    expect(g.warnings).toEqual([]);
  });

  it('turns provider failures into warnings, and into one error under --strict-credentials', async () => {
    const g = await gatherCredentials(input({ flags: { gcp: true } }));
    expect(g.warnings).toEqual(['GCP: gcloud auth print-access-token failed (exit 1): ERROR: nope']);
    expect(g.providers).toEqual(['github']);
    const err = await gatherCredentials(input({ flags: { gcp: true, strict: true } })).catch(
      (e: unknown) => e as MinoError,
    );
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe(
      'Credential loading failed for: GCP. Remove --strict-credentials to continue anyway.',
    );
  });

  it('warns about -e KEY when mino has no KEY, and passes nothing with --no-passthrough', async () => {
    const g = await gatherCredentials(
      input({ flags: { passthrough: false, github: false }, cliEnv: ['NOPE'], hostEnv: { ANTHROPIC_API_KEY: 'x' } }),
    );
    expect(g.secretValues.size).toBe(0);
    expect(g.warnings).toEqual(["-e NOPE: NOPE is not set in mino's environment, so the session does not get it"]);
  });

  it('checks the SSH agent socket before running any provider', async () => {
    let ran = false;
    const err = await gatherCredentials(
      input({
        flags: { sshAgent: true },
        hostEnv: {},
        run: async () => {
          ran = true;
          return { stdout: '', stderr: '', exitCode: 0, signal: null };
        },
      }),
    ).catch((e: unknown) => e as MinoError);
    expect((err as MinoError).message).toContain('SSH_AUTH_SOCK is not set');
    expect(ran).toBe(false);
  });

  it('shares logins by default, and keeps proxy-only values out of the sandbox', async () => {
    const g = await gatherCredentials(
      input({
        proxyOnly: [{ variable: 'GH_TOKEN', hosts: ['api.github.com'], header: 'Authorization', prefix: 'Bearer ' }],
      }),
    );
    expect(g.loginsVolume).toBe('mino-logins-k');
    expect(g.secretValues.has('GH_TOKEN')).toBe(false);
    expect(g.proxyRules.map((r) => r.variable)).toEqual(['GH_TOKEN']);
    expect([...g.proxyValues.values()]).toEqual(['gho_FAKE']);
    expect((await gatherCredentials(input({ flags: { shareLogins: false } }))).loginsVolume).toBeUndefined();
  });

  it("takes a [credentials.NAME] variable from mino's environment, for the proxy only (none without a proxy)", async () => {
    const own = {
      name: 'mine',
      variable: 'MY_TOKEN',
      hosts: ['api.example.com'],
      header: 'authorization',
      prefix: 'Bearer ',
    };
    const base = { config: config({ customCredentials: [own] }), hostEnv: { MY_TOKEN: 'my-real' } };
    const proxied = await gatherCredentials(input({ ...base, proxyOnly: proxyMarks([own]) }));
    expect(proxied.secretValues.has('MY_TOKEN')).toBe(false);
    expect(proxied.proxyRules.filter((r) => r.variable === 'MY_TOKEN')).toEqual([
      expect.objectContaining({ variable: 'MY_TOKEN', hosts: ['api.example.com'], add: true }),
    ]);
    expect([...proxied.proxyValues.values()]).toContain('my-real');
    expect(proxied.warnings).toEqual([]);
    const bridge = await gatherCredentials(input(base));
    expect(bridge.secretValues.has('MY_TOKEN')).toBe(false);
    expect(bridge.proxyRules).toEqual([]);
  });
});
