import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IS_ROOT, REPO_ROOT, TEST_IMAGE, rootlessPrefix } from '../../helpers/test-env.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';
import { CredSandbox, buildAgentTestImage, homeVolumeOf, scratchDir } from './cred-helpers.js';

requirePrerequisites();

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

function sandbox(as: (typeof MODES)[number]): CredSandbox {
  const s = new CredSandbox(as);
  cleanups.push(() => s.cleanup());
  return s;
}

/** Runs a program as the sandbox's user (root, or the rootless test user). */
function asUser(
  s: CredSandbox,
  argv: string[],
  env: Record<string, string> = {},
): { stdout: string; stderr: string; status: number } {
  const prefix = s.as === 'rootless' ? rootlessPrefix() : [];
  const extra = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const full = prefix.length > 0 ? [...prefix, ...extra, ...argv] : argv;
  const r = spawnSync(full[0]!, full.slice(1), {
    encoding: 'utf8',
    cwd: '/tmp',
    env: prefix.length > 0 ? process.env : { ...process.env, ...env },
  });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 1 };
}

for (const as of MODES) {
  describe(`SSH agent forwarding [${modeLabel(as)}]`, () => {
    let image: string;
    beforeAll(() => {
      image = buildAgentTestImage(as, ['/usr/bin/ssh-add']);
    });

    it("--ssh-agent: ssh-add -l in the session lists the key of the host's real ssh-agent", async () => {
      const s = sandbox(as);
      const dir = join(scratchDir('mino-ssh-'), 'agent');
      mkdirSync(dir, { mode: 0o700 });
      s.chown(dir);
      const sock = join(dir, 'agent.sock');
      const agent = asUser(s, ['ssh-agent', '-a', sock]);
      expect(agent.status, agent.stderr).toBe(0);
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
      cleanups.push(() => {
        try {
          process.kill(pid);
        } catch {
          // gone
        }
        rmSync(join(dir, '..'), { recursive: true, force: true });
      });
      expect(
        asUser(s, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'mino-test-key', '-f', join(dir, 'key')])
          .status,
      ).toBe(0);
      expect(asUser(s, ['ssh-add', '-q', join(dir, 'key')], { SSH_AUTH_SOCK: sock }).status).toBe(0);
      const fingerprint = asUser(s, ['ssh-keygen', '-lf', join(dir, 'key.pub')]).stdout.split(' ')[1]!;
      expect(fingerprint).toMatch(/^SHA256:/);

      const p = s.project('ssh');
      s.track(homeVolumeOf(p));
      const r = await s.minoEnv(
        [
          'run',
          '--image',
          image,
          '-p',
          p,
          '--network',
          'none',
          '--no-github',
          '--ssh-agent',
          '--',
          'sh',
          '-c',
          'echo "$SSH_AUTH_SOCK"; ssh-add -l',
        ],
        { SSH_AUTH_SOCK: sock },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`/ssh-agent\n256 ${fingerprint} mino-test-key (ED25519)\n`);
      // Off by default.
      const off = await s.minoEnv(
        [
          'run',
          '--image',
          image,
          '-p',
          p,
          '--network',
          'none',
          '--no-github',
          '--',
          'sh',
          '-c',
          'echo "[${SSH_AUTH_SOCK:-}]"; ls /ssh-agent 2>/dev/null | wc -l',
        ],
        { SSH_AUTH_SOCK: sock },
      );
      expect(off.stdout).toBe('[]\n0\n');
      if (as === 'self' && IS_ROOT) {
        // Rootful sessions reach the agent through mino's relay, which needs mino attached.
        const detached = await s.minoEnv(
          [
            'run',
            '-d',
            '-n',
            'sshbg',
            '--image',
            image,
            '-p',
            p,
            '--network',
            'none',
            '--no-github',
            '--ssh-agent',
            '--',
            'true',
          ],
          { SSH_AUTH_SOCK: sock },
        );
        expect(detached.exitCode).toBe(1);
        expect(detached.stderr).toContain('Error: --ssh-agent does not work with a detached session of rootful podman');
        expect(s.sessionEnvFiles()).toEqual([]);
      }
    });

    it('--ssh-agent without an agent: one clear error, nothing created', async () => {
      const s = sandbox(as);
      const p = s.project('nossh');
      for (const env of [{}, { SSH_AUTH_SOCK: '/tmp/no-such-agent.sock' }]) {
        const r = await s.minoEnv(
          [
            'run',
            '-n',
            'nossh',
            '--image',
            TEST_IMAGE,
            '-p',
            p,
            '--network',
            'none',
            '--no-github',
            '--ssh-agent',
            '--',
            'true',
          ],
          env,
        );
        expect(r.exitCode).toBe(1);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toHaveLength(1);
        expect(r.stderr).toMatch(
          /Error: --ssh-agent: (SSH_AUTH_SOCK is not set|the SSH agent socket \/tmp\/no-such-agent.sock does not exist)/,
        );
        expect(existsSync(join(s.stateDir, 'sessions', 'nossh.json'))).toBe(false);
      }
    });
  });

  describe(`host CA certificates and bad input [${modeLabel(as)}]`, () => {
    it("a session of a non-mino image trusts the host's extra CA: bundle mounted read-only, NODE_EXTRA_CA_CERTS/SSL_CERT_FILE/REQUESTS_CA_BUNDLE set", async () => {
      const s = sandbox(as);
      const p = s.project('ca');
      const extra = join(scratchDir('mino-ca-'), 'proxy-ca.crt');
      spawnSync('cp', [join(REPO_ROOT, 'test', 'fixtures', 'ca', 'proxy-ca.crt'), extra]);
      spawnSync('chmod', ['a+r', extra]);
      if (as === 'rootless' && IS_ROOT) chownSync(extra, s.uid, s.uid);
      const pem = readFileSync(extra, 'utf8');
      const body = pem.split('\n').find((l) => l.length === 64 && !l.startsWith('-'))!;
      const r = await s.minoEnv(
        [
          'run',
          '--image',
          TEST_IMAGE,
          '-p',
          p,
          '--network',
          'none',
          '--no-github',
          '--',
          'sh',
          '-c',
          `echo "$NODE_EXTRA_CA_CERTS $SSL_CERT_FILE $REQUESTS_CA_BUNDLE"; grep -c '${body}' "$SSL_CERT_FILE"; echo x >> "$SSL_CERT_FILE" 2>/dev/null || echo read-only`,
        ],
        { NODE_EXTRA_CA_CERTS: extra },
      );
      expect(r.stdout).toBe(
        '/run/mino/ca-certificates.crt /run/mino/ca-certificates.crt /run/mino/ca-certificates.crt\n1\nread-only\n',
      );
      const off = await s.minoEnv(
        [
          'run',
          '--image',
          TEST_IMAGE,
          '-p',
          p,
          '--network',
          'none',
          '--no-github',
          '--',
          'sh',
          '-c',
          'echo "[${SSL_CERT_FILE:-}]"',
        ],
        { NODE_EXTRA_CA_CERTS: extra },
      );
      expect(off.stdout).toBe('[/run/mino/ca-certificates.crt]\n');
      s.config('[container]\nhost_ca_certificates = false\n');
      const disabled = await s.minoEnv(
        [
          'run',
          '--image',
          TEST_IMAGE,
          '-p',
          p,
          '--network',
          'none',
          '--no-github',
          '--',
          'sh',
          '-c',
          'echo "[${SSL_CERT_FILE:-}]"',
        ],
        { NODE_EXTRA_CA_CERTS: extra },
      );
      expect(disabled.stdout).toBe('[]\n');
      rmSync(join(extra, '..'), { recursive: true, force: true });
    });

    it('bad credential input: one clear error each, no secret printed, nothing created', async () => {
      const s = sandbox(as);
      const p = s.project('bad');
      const cases: Array<{ config?: string; args: string[]; code: number; error: RegExp }> = [
        {
          config: '[container]\nenv_passthrough = ["BAD-NAME"]\n',
          args: [],
          code: 1,
          error: /container\.env_passthrough\[0\] must be a variable name/,
        },
        {
          config: '[credentials.aws]\nenabled = "yes"\n',
          args: [],
          code: 1,
          error: /credentials\.aws\.enabled must be a boolean/,
        },
        // Any other table of [credentials] is a credential of the user's: a bad one is a usage error.
        {
          config: '[credentials.vault]\nenabled = true\n',
          args: [],
          code: 2,
          error: /Invalid \[credentials\.vault\].*unknown key 'enabled'/,
        },
        { args: ['--all-clouds', '--aws'], code: 2, error: /--all-clouds cannot be combined with --aws/ },
        { args: ['--vault'], code: 2, error: /unknown option '--vault'/i },
        { args: ['-e', '1BAD'], code: 2, error: /Invalid --env '1BAD'/ },
      ];
      for (const c of cases) {
        s.config(c.config ?? '');
        const r = await s.mino([
          'run',
          '-n',
          'bad',
          '--image',
          TEST_IMAGE,
          '-p',
          p,
          '--network',
          'none',
          ...c.args,
          '--',
          'true',
        ]);
        expect(r.exitCode, r.stderr).toBe(c.code);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toHaveLength(1);
        expect(r.stderr).toMatch(c.error);
        expect(r.stderr).not.toContain(s.tokens.gh);
        expect(existsSync(join(s.stateDir, 'sessions', 'bad.json'))).toBe(false);
      }
    });
  });
}
