import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { TEST_IMAGE } from '../../helpers/test-env.js';
import { MODES, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { CredSandbox, leaked, minoPid, processList } from './cred-helpers.js';
import { waitFor } from '../../helpers/wait-for.js';

requirePrerequisites();

const sandboxes: CredSandbox[] = [];
afterAll(() => {
  for (const s of sandboxes) s.cleanup();
});

function sandbox(as: (typeof MODES)[number]): CredSandbox {
  const s = new CredSandbox(as);
  sandboxes.push(s);
  return s;
}

/** A script that writes the credential variables into the project, one per line, then sleeps. */
const REPORT =
  'for v in GH_TOKEN GITHUB_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN CLOUDSDK_AUTH_ACCESS_TOKEN AZURE_ACCESS_TOKEN ANTHROPIC_API_KEY MY_SECRET; do eval "printf \'%s=%s\\n\' $v \\"\\${$v:-}\\""; done';

for (const as of MODES) {
  describe(`credentials reach the session and nothing else [${modeLabel(as)}]`, () => {
    it("every provider, the passthrough and -e KEY: in the command's environment, never in ps, inspect, session JSON, audit, -vv or --dry-run", async () => {
      const s = sandbox(as);
      const project = s.project('leaky');
      const passthrough = `sk-ant-FAKE${s.tokens.gh.slice(-10)}`;
      const mine = `my-secret-${s.tokens.aws.slice(-10)}`;
      const secrets = [...s.secrets(), passthrough, mine];
      const env = { ANTHROPIC_API_KEY: passthrough, MY_SECRET: mine };
      const flags = ['--image', TEST_IMAGE, '-p', project, '--network', 'none', '--all-clouds', '-e', 'MY_SECRET'];

      const dry = await s.minoEnv(['run', '--dry-run', ...flags, '--', 'true'], env);
      expect(dry.exitCode).toBe(0);
      expect(dry.stdout).toContain('/run/secrets/mino-env:ro');
      expect(leaked(dry.stdout + dry.stderr, secrets)).toEqual([]);

      const run = await s.minoEnv(
        ['-vv', 'run', '-d', '-n', 'leak', ...flags, '--', 'sh', '-c', `{ ${REPORT}; } > seen.txt; sleep 120`],
        env,
      );
      expect(run.exitCode).toBe(0);
      expect(leaked(run.stdout + run.stderr, secrets)).toEqual([]);
      expect(run.stderr).toContain('"args":["run","-d"');
      await waitFor(
        () =>
          existsSync(join(project, 'seen.txt')) &&
          readFileSync(join(project, 'seen.txt'), 'utf8').includes('MY_SECRET='),
      );
      const seen = readFileSync(join(project, 'seen.txt'), 'utf8');
      expect(seen).toContain(`GH_TOKEN=${s.tokens.gh}\nGITHUB_TOKEN=${s.tokens.gh}\n`);
      expect(seen).toContain(`AWS_SECRET_ACCESS_KEY=${s.tokens.aws}-secret\nAWS_SESSION_TOKEN=${s.tokens.aws}\n`);
      expect(seen).toContain(`CLOUDSDK_AUTH_ACCESS_TOKEN=${s.tokens.gcloud}\nAZURE_ACCESS_TOKEN=${s.tokens.az}\n`);
      expect(seen).toContain(`ANTHROPIC_API_KEY=${passthrough}\nMY_SECRET=${mine}\n`);

      // While the session runs.
      expect(leaked(processList(), secrets)).toEqual([]);
      const inspect = podmanAs(as, ['inspect', 'mino-leak']);
      expect(inspect.status).toBe(0);
      expect(inspect.stdout).toContain('/run/secrets/mino-env');
      expect(leaked(inspect.stdout, secrets)).toEqual([]);
      expect(leaked(s.stateTexts(), secrets)).toEqual([]);
      expect(s.stateTexts()).toContain('"event":"credentials.injected"');
      // The file the values came in is gone from the host once the detached container started.
      expect(s.sessionEnvFiles()).toEqual([]);

      // mino exec sees the same variables.
      const exec = await s.mino(['exec', 'leak', '--', 'sh', '-c', 'printf "%s" "$AZURE_ACCESS_TOKEN"']);
      expect(exec.stdout).toBe(s.tokens.az);
      const list = await s.mino(['list', '-a', '-f', 'json']);
      expect(JSON.parse(list.stdout)[0]).toMatchObject({ name: 'leak', status: 'running' });
      expect(leaked(list.stdout, secrets)).toEqual([]);
      expect((await s.mino(['stop', '-f', 'leak'])).exitCode).toBe(0);
      expect(leaked(s.stateTexts(), secrets)).toEqual([]);
    });

    it('an attached session: the file exists only while it runs; after kill -9 of mino, stop or reconciliation removes it', async () => {
      const s = sandbox(as);
      const project = s.project('attached');
      const { child, done } = s.spawn([
        'run',
        '-n',
        'att',
        '--image',
        TEST_IMAGE,
        '-p',
        project,
        '--network',
        'none',
        '--',
        'sh',
        '-c',
        'echo "$GH_TOKEN" > ready; sleep 120',
      ]);
      await waitFor(() => existsSync(join(project, 'ready')));
      expect(readFileSync(join(project, 'ready'), 'utf8')).toBe(`${s.tokens.gh}\n`);
      expect(leaked(processList(), s.secrets())).toEqual([]);
      expect(s.sessionEnvFiles()).toHaveLength(1);
      process.kill(minoPid(child, as), 'SIGKILL');
      await done;
      // The container lives on (its podman client was orphaned): the session is still running.
      expect(s.sessionEnvFiles()).toHaveLength(1);
      expect((await s.mino(['list'])).exitCode).toBe(0);
      expect(s.sessionEnvFiles()).toHaveLength(1);
      expect((await s.mino(['stop', '-f', 'att'])).exitCode).toBe(0);
      expect(s.sessionEnvFiles()).toEqual([]);

      // Container gone behind mino's back: the next reconciliation (mino gc) reaps the file.
      const again = s.spawn([
        'run',
        '-n',
        'att2',
        '--image',
        TEST_IMAGE,
        '-p',
        project,
        '--network',
        'none',
        '--',
        'sh',
        '-c',
        'echo x > ready2; sleep 120',
      ]);
      await waitFor(() => existsSync(join(project, 'ready2')));
      process.kill(minoPid(again.child, as), 'SIGKILL');
      await again.done;
      podmanAs(as, ['rm', '-f', '-t', '0', 'mino-att2']);
      expect(s.sessionEnvFiles()).toHaveLength(1);
      const gc = await s.mino(['gc']);
      expect(gc.stdout).toContain('removed the leftover secrets file of session att2');
      expect(s.sessionEnvFiles()).toEqual([]);
    });

    it('-e KEY=VALUE wins over a provider, and mino warns that it is visible', async () => {
      const s = sandbox(as);
      const project = s.project('explicit');
      const r = await s.mino([
        'run',
        '--image',
        TEST_IMAGE,
        '-p',
        project,
        '--network',
        'none',
        '-e',
        'GH_TOKEN=mine',
        '--',
        'sh',
        '-c',
        'echo "$GH_TOKEN $GITHUB_TOKEN"',
      ]);
      expect(r.stdout).toBe(`mine ${s.tokens.gh}\n`);
      expect(r.stderr).toContain('Warning: GH_TOKEN looks like a secret but is passed as a plain variable');
    });
  });

  describe(`provider failures [${modeLabel(as)}]`, () => {
    it('a failing or unreadable CLI is one warning each and the session runs; --strict-credentials refuses to start', async () => {
      const s = sandbox(as);
      const project = s.project('fails');
      s.fake('gh', 'mode', 'fail');
      s.fake('aws', 'mode', 'garbage');
      s.fake('gcloud', 'mode', 'notloggedin');
      const r = await s.mino([
        'run',
        '--image',
        TEST_IMAGE,
        '-p',
        project,
        '--network',
        'none',
        '--aws',
        '--gcp',
        '--',
        'sh',
        '-c',
        'echo "[${GH_TOKEN:-}${AWS_SESSION_TOKEN:-}]"',
      ]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('[]\n');
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Warning:'))).toEqual([
        'Warning: GitHub: gh auth token failed (exit 1): error: the service is unavailable right now',
        'Warning: AWS: aws sts printed no JSON',
        'Warning: GCP: gcloud has no logged-in account (run: gcloud auth login)',
      ]);
      const strict = await s.mino([
        'run',
        '-n',
        'strict',
        '--image',
        TEST_IMAGE,
        '-p',
        project,
        '--network',
        'none',
        '--aws',
        '--strict-credentials',
        '--',
        'true',
      ]);
      expect(strict.exitCode).toBe(1);
      expect(strict.stderr).toContain(
        'Error: Credential loading failed for: GitHub, AWS. Remove --strict-credentials to continue anyway.',
      );
      expect(existsSync(join(s.stateDir, 'sessions', 'strict.json'))).toBe(false);
      expect(podmanAs(as, ['container', 'exists', 'mino-strict']).status).toBe(1);
    });

    it('gh missing or not logged in is quiet (GitHub is on by default); --no-github skips it', async () => {
      const s = sandbox(as);
      const project = s.project('quiet');
      s.fake('gh', 'mode', 'notloggedin');
      const r = await s.mino(['run', '--image', TEST_IMAGE, '-p', project, '--network', 'none', '--', 'true']);
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toBe('');
      const before = s.calls().length;
      expect(
        (await s.mino(['run', '--image', TEST_IMAGE, '-p', project, '--network', 'none', '--no-github', '--', 'true']))
          .exitCode,
      ).toBe(0);
      expect(s.calls().length).toBe(before);
    });

    it('a CLI that hangs is given up after 15 s with a warning, and the others still deliver', async () => {
      const s = sandbox(as);
      const project = s.project('hangs');
      s.fake('aws', 'mode', 'hang');
      s.fake('az', 'mode', 'hang');
      const r = await s.mino(
        [
          'run',
          '--image',
          TEST_IMAGE,
          '-p',
          project,
          '--network',
          'none',
          '--aws',
          '--azure',
          '--gcp',
          '--',
          'sh',
          '-c',
          'echo "$CLOUDSDK_AUTH_ACCESS_TOKEN"',
        ],
        60_000,
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${s.tokens.gcloud}\n`);
      expect(r.stderr).toContain('Warning: AWS: aws did not answer within 15 s; skipped');
      expect(r.stderr).toContain('Warning: Azure: az did not answer within 15 s; skipped');
    }, 90_000);
  });

  describe(`the token cache [${modeLabel(as)}]`, () => {
    it('two AWS profiles get two tokens; a cached one is reused; one expiring within a minute is fetched again', async () => {
      const s = sandbox(as);
      const project = s.project('cache');
      const token = async (): Promise<string> =>
        (
          await s.mino([
            'run',
            '--image',
            TEST_IMAGE,
            '-p',
            project,
            '--network',
            'none',
            '--no-github',
            '--aws',
            '--',
            'sh',
            '-c',
            'echo "$AWS_SESSION_TOKEN"',
          ])
        ).stdout.trim();
      s.config('[credentials.aws]\nprofile = "alpha"\n');
      expect(await token()).toBe(`${s.tokens.aws}-alpha`);
      s.config('[credentials.aws]\nprofile = "beta"\n');
      expect(await token()).toBe(`${s.tokens.aws}-beta`);
      s.config('[credentials.aws]\nprofile = "alpha"\n');
      expect(await token()).toBe(`${s.tokens.aws}-alpha`);
      expect(s.calls().filter((c) => c.startsWith('aws '))).toEqual([
        'aws sts get-session-token --duration-seconds 3600 --output json --profile alpha',
        'aws sts get-session-token --duration-seconds 3600 --output json --profile beta',
      ]);
      // Expiring in 30 s: inside the 60 s margin, so every run asks again.
      s.config('[credentials.aws]\nprofile = "gamma"\n');
      s.fake('aws', 'expires', new Date(Date.now() + 30_000).toISOString());
      await token();
      await token();
      expect(s.calls().filter((c) => c.includes('gamma'))).toHaveLength(2);
      // mino cache clear --credentials forgets the tokens.
      const clear = await s.mino(['cache', 'clear', '--credentials']);
      expect(clear.stdout).toBe('Removed 2 cached credentials\n');
      s.config('[credentials.aws]\nprofile = "alpha"\n');
      await token();
      expect(s.calls().filter((c) => c.includes('alpha'))).toHaveLength(2);
    });
  });
}
