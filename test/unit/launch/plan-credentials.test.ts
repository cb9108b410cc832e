import { describe, expect, it } from 'vitest';
import { formatPlan } from '../../../src/launch/plan-format.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { PRELUDE_NAME, preludeScript } from '../../../src/credentials/session-prelude.js';
import { typicalInput } from './plan-input.js';

const envFile = {
  hostPath: '/run/user/1001/mino/k/session-env/demo.env',
  variables: ['GH_TOKEN', 'ANTHROPIC_API_KEY'],
};

describe('credentials in the plan', () => {
  it('mounts the session env file read-only and runs the command through the prelude', () => {
    const plan = buildRunPlan(typicalInput({ credentials: { envFile } }));
    expect(plan.spec.mounts).toContainEqual({
      source: envFile.hostPath,
      target: '/run/secrets/mino-env',
      readOnly: true,
    });
    expect(plan.spec.command).toEqual([
      '/bin/sh',
      '-c',
      preludeScript({ env: true, logins: false, settings: false }),
      PRELUDE_NAME,
      'claude',
      '--resume',
    ]);
    expect(plan.credentials.secretVariables).toEqual(['GH_TOKEN', 'ANTHROPIC_API_KEY']);
  });

  it('mounts the shared logins volume (chowned to the session user) and points Claude Code at it', () => {
    const plan = buildRunPlan(typicalInput({ credentials: { loginsVolume: 'mino-logins-abc' } }));
    expect(plan.spec.mounts).toContainEqual({
      source: 'mino-logins-abc',
      target: '/opt/mino/logins',
      readOnly: false,
      chown: true,
    });
    expect(plan.spec.env?.CLAUDE_SECURESTORAGE_CONFIG_DIR).toBe('/opt/mino/logins/claude');
    expect(plan.loginsVolume).toBe('mino-logins-abc');
    expect(plan.credentials.preludeParts).toEqual({ env: false, logins: true, settings: false });
    expect(formatPlan(plan)).toContain('mino-logins-abc:/opt/mino/logins:U');
    // Other images: no prelude needed (and maybe no sh): Claude Code finds the volume by the variable.
    const other = buildRunPlan(
      typicalInput({
        image: 'docker.io/library/node:22',
        imageUser: undefined,
        credentials: { loginsVolume: 'mino-logins-abc' },
      }),
    );
    expect(other.credentials.prelude).toBe(false);
    expect(other.spec.command).toEqual(['claude', '--resume']);
  });

  it('orders variables: agent/CA paths < layers < host passthrough < config < providers < -e', () => {
    const plan = buildRunPlan(
      typicalInput({
        layerEnv: { L: 'layer', NODE_EXTRA_CA_CERTS: '/layer.pem' },
        configEnv: { LANG: 'config', SSL_CERT_FILE: '/mine.pem', AWS_REGION: 'config' },
        cliEnv: ['AWS_REGION=cli'],
        credentials: {
          hostEnv: { LANG: 'host', TZ: 'host' },
          providerEnv: { AWS_REGION: 'provider', AWS_DEFAULT_REGION: 'provider' },
          caBundle: '/state/ca/session-ca.crt',
        },
      }),
    );
    expect(plan.spec.env).toMatchObject({
      L: 'layer',
      NODE_EXTRA_CA_CERTS: '/layer.pem',
      SSL_CERT_FILE: '/mine.pem',
      REQUESTS_CA_BUNDLE: '/run/mino/ca-certificates.crt',
      LANG: 'config',
      TZ: 'host',
      AWS_REGION: 'cli',
      AWS_DEFAULT_REGION: 'provider',
    });
    expect(plan.spec.mounts).toContainEqual({
      source: '/state/ca/session-ca.crt',
      target: '/run/mino/ca-certificates.crt',
      readOnly: true,
    });
  });

  it('forwards the SSH agent socket at /ssh-agent', () => {
    const plan = buildRunPlan(typicalInput({ credentials: { sshAgentSocket: '/tmp/ssh-x/agent.1' } }));
    expect(plan.spec.mounts).toContainEqual({ source: '/tmp/ssh-x/agent.1', target: '/ssh-agent', readOnly: false });
    expect(plan.spec.env?.SSH_AUTH_SOCK).toBe('/ssh-agent');
  });

  it('carries host agent settings read-only under /opt/mino/host', () => {
    const plan = buildRunPlan(
      typicalInput({
        credentials: {
          hostSettings: [{ source: '/home/alice/.claude/CLAUDE.md', target: '/opt/mino/host/claude/CLAUDE.md' }],
        },
      }),
    );
    expect(plan.spec.mounts).toContainEqual({
      source: '/home/alice/.claude/CLAUDE.md',
      target: '/opt/mino/host/claude/CLAUDE.md',
      readOnly: true,
    });
    expect(plan.credentials.preludeParts.settings).toBe(true);
  });

  it('leaves a credential mount out, with a warning, where a mount of the user is', () => {
    const plan = buildRunPlan(
      typicalInput({ cliVolumes: ['/home/alice/sock:/ssh-agent'], credentials: { sshAgentSocket: '/tmp/agent' } }),
    );
    expect(plan.warnings).toContain('The SSH agent socket is not mounted: /ssh-agent is already a mount of yours');
    expect(plan.spec.env?.SSH_AUTH_SOCK).toBeUndefined();
  });

  it('puts proxy placeholders in the environment and the rules in the plan, and does not warn about them', () => {
    const rule = {
      variable: 'GH_TOKEN',
      placeholder: 'mino-proxy-managed-gh_token-00',
      hosts: ['api.github.com'],
      header: 'Authorization',
      prefix: 'Bearer ',
    };
    const plan = buildRunPlan(typicalInput({ credentials: { proxy: [rule] } }));
    expect(plan.spec.env?.GH_TOKEN).toBe('mino-proxy-managed-gh_token-00');
    expect(plan.credentials.proxy).toEqual([rule]);
    expect(plan.warnings).toEqual([]);
  });

  it('mounts a session CA bundle also as the system bundle of mino images, and points every TLS client at it', () => {
    const bundle = '/run/user/1000/mino/k/session-env/s.ca.crt';
    const plan = buildRunPlan(typicalInput({ credentials: { caBundle: bundle, sessionCa: true } }));
    expect(plan.credentials.sessionCa).toBe(true);
    const targets = plan.mounts.filter((m) => m.source === bundle).map((m) => [m.target, m.readOnly]);
    expect(targets).toEqual([
      ['/run/mino/ca-certificates.crt', true],
      ['/etc/ssl/certs/ca-certificates.crt', true],
    ]);
    for (const v of [
      'NODE_EXTRA_CA_CERTS',
      'SSL_CERT_FILE',
      'REQUESTS_CA_BUNDLE',
      'CURL_CA_BUNDLE',
      'GIT_SSL_CAINFO',
      'NPM_CONFIG_CAFILE',
      'PIP_CERT',
    ])
      expect(plan.spec.env?.[v]).toBe('/run/mino/ca-certificates.crt');
    const other = buildRunPlan(
      typicalInput({ image: 'docker.io/library/node:20', credentials: { caBundle: bundle, sessionCa: true } }),
    );
    expect(other.mounts.filter((m) => m.source === bundle).map((m) => m.target)).toEqual([
      '/run/mino/ca-certificates.crt',
    ]);
    const host = buildRunPlan(typicalInput({ credentials: { caBundle: bundle } }));
    expect(host.credentials.sessionCa).toBe(false);
    expect(host.mounts.filter((m) => m.source === bundle)).toHaveLength(1);
  });
});

describe('the prelude', () => {
  it('has only the parts a session needs and always ends by exec-ing the command', () => {
    const env = preludeScript({ env: true, logins: false, settings: false });
    const lines = env.split('\n');
    expect(lines[0]).toBe('if [ -f /run/secrets/mino-env ]; then . /run/secrets/mino-env || exit 126; fi');
    expect(lines[1]).toBe('case "$1" in'); // the command check (prelude-command-check.test.ts)
    expect(lines.at(-1)).toBe('exec "$@"');
    expect(env).not.toContain('/opt/mino/');
    const all = preludeScript({ env: true, logins: true, settings: true });
    expect(all).toContain('/opt/mino/logins/codex/auth.json');
    expect(all).toContain('/opt/mino/host/$a');
    expect(all.endsWith('exec "$@"')).toBe(true);
  });
});
