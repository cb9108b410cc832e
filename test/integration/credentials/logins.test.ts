import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IS_ROOT } from '../../helpers/test-env.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';
import { CredSandbox, buildAgentTestImage, homeVolumeOf, scratchDir } from './cred-helpers.js';

requirePrerequisites();

const sandboxes: CredSandbox[] = [];
afterAll(() => {
  for (const s of sandboxes) s.cleanup();
});

/** A stand-in for Codex: `codex login KEY` writes ~/.codex/auth.json in place (as Codex does), `codex status` prints it. */
const FAKE_CODEX = `#!/bin/sh
case "$1" in
  login) mkdir -p "$HOME/.codex" && printf '{"OPENAI_API_KEY":"%s"}\\n' "$2" > "$HOME/.codex/auth.json" ;;
  status) cat "$HOME/.codex/auth.json" ;;
esac
`;

const CLAUDE_LOGIN =
  '{"claudeAiOauth":{"accessToken":"sk-ant-oat01-FAKE","refreshToken":"sk-ant-ort01-FAKE","expiresAt":4102444800000,"scopes":["user:inference"],"subscriptionType":"max"}}';

for (const as of MODES) {
  describe(`agent logins shared between projects [${modeLabel(as)}]`, () => {
    let image: string;
    let tools: string;
    beforeAll(() => {
      image = buildAgentTestImage(as, []);
      tools = scratchDir('mino-cred-tools-');
      writeFileSync(join(tools, 'codex'), FAKE_CODEX);
      chmodSync(join(tools, 'codex'), 0o755);
    });

    function sandbox(): {
      s: CredSandbox;
      run: (
        project: string,
        script: string,
        extra?: string[],
      ) => Promise<{ stdout: string; stderr: string; exitCode: number }>;
    } {
      const s = new CredSandbox(as);
      sandboxes.push(s);
      const run = (project: string, script: string, extra: string[] = []) => {
        s.track(homeVolumeOf(project));
        return s.mino([
          'run',
          '--image',
          image,
          '-p',
          project,
          '--network',
          'none',
          '--no-github',
          '--volume',
          `${tools}:/opt/tools:ro`,
          '-e',
          'PATH=/opt/tools:/bin',
          ...extra,
          '--',
          'sh',
          '-c',
          script,
        ]);
      };
      return { s, run };
    }

    it('a login made in one project is there in another, not after mino login --reset; settings and homes stay per project', async () => {
      const { s, run } = sandbox();
      const a = s.project('project-a');
      const b = s.project('project-b');
      const c = s.project('project-c');
      const login = await run(
        a,
        `mkdir -p "$CLAUDE_SECURESTORAGE_CONFIG_DIR" && printf '%s' '${CLAUDE_LOGIN}' > "$CLAUDE_SECURESTORAGE_CONFIG_DIR/.credentials.json" && codex login sk-codex-FAKE && echo a > ~/only-in-a`,
      );
      expect(login.stderr).toBe('');
      expect(login.exitCode).toBe(0);
      const seen = await run(
        b,
        'cat "$CLAUDE_SECURESTORAGE_CONFIG_DIR/.credentials.json"; echo; codex status; ls ~/only-in-a 2>&1 >/dev/null | wc -l',
      );
      expect(seen.stdout).toBe(`${CLAUDE_LOGIN}\n{"OPENAI_API_KEY":"sk-codex-FAKE"}\n1\n`);

      const status = await s.mino(['login']);
      expect(status.stdout).toContain('  claude  logged in\n  codex   logged in\n');

      expect((await s.mino(['login', '--reset', 'codex'])).stdout).toBe(
        'The shared codex login forgotten (were stored: codex)\n',
      );
      const afterCodex = await run(
        c,
        'test -s "$CLAUDE_SECURESTORAGE_CONFIG_DIR/.credentials.json" && echo claude; codex status 2>/dev/null || echo no-codex',
      );
      expect(afterCodex.stdout).toBe('claude\nno-codex\n');

      expect((await s.mino(['login', '--reset'])).stdout).toBe(
        'All shared agent logins forgotten (were stored: claude)\n',
      );
      const afterAll = await run(c, 'ls "$CLAUDE_SECURESTORAGE_CONFIG_DIR" 2>/dev/null | wc -l');
      expect(afterAll.stdout).toBe('0\n');
      expect((await s.mino(['login'])).stdout).toContain('  claude  not logged in\n');
    });

    it('--no-shared-logins leaves the logins out; a reset while a session uses them is refused', async () => {
      const { s, run } = sandbox();
      const p = s.project('untrusted');
      const r = await run(p, 'echo "[${CLAUDE_SECURESTORAGE_CONFIG_DIR:-}]"; ls /opt/mino/logins 2>&1 | head -1', [
        '--no-shared-logins',
      ]);
      expect(r.stdout).toMatch(/^\[\]\nls: .*No such file or directory\n$/);
      const bg = await s.mino([
        'run',
        '-d',
        '-n',
        'busy',
        '--image',
        image,
        '-p',
        p,
        '--network',
        'none',
        '--no-github',
        '--',
        'sleep',
        '120',
      ]);
      expect(bg.exitCode).toBe(0);
      const reset = await s.mino(['login', '--reset']);
      expect(reset.exitCode).toBe(1);
      expect(reset.stderr).toContain('Error: The shared agent logins are in use by a running session');
      expect((await s.mino(['stop', '-f', 'busy'])).exitCode).toBe(0);
    });

    it("--agent-settings carries the host's Claude/Codex settings in read-only, never its login or transcripts", async () => {
      const { s } = sandbox();
      const home = join(s.root, 'home');
      const files: Record<string, string> = {
        '.claude/CLAUDE.md': 'host memory\n',
        '.claude/settings.json': '{"model":"opus"}\n',
        '.claude/skills/demo/SKILL.md': 'skill\n',
        '.claude/.credentials.json': 'HOST-LOGIN-SECRET\n',
        '.claude/projects/-x/t.jsonl': 'HOST-TRANSCRIPT\n',
        '.codex/AGENTS.md': 'codex memory\n',
      };
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(join(home, rel, '..'), { recursive: true });
        writeFileSync(join(home, rel), text);
      }
      for (const d of [
        '',
        '.claude',
        '.claude/skills',
        '.claude/skills/demo',
        '.claude/projects',
        '.claude/projects/-x',
        '.codex',
      ])
        s.chown(join(home, d));
      for (const f of Object.keys(files)) s.chown(join(home, f));
      const p = s.project('settings');
      const withHome = (script: string, extra: string[] = []) =>
        s.minoEnv(
          ['run', '--image', image, '-p', p, '--network', 'none', '--no-github', ...extra, '--', 'sh', '-c', script],
          { HOME: home },
        );
      s.track(homeVolumeOf(p));
      // The project's own settings.json, made before the host's are carried in.
      expect((await withHome('mkdir -p ~/.claude && echo mine > ~/.claude/settings.json')).exitCode).toBe(0);
      const r = await withHome(
        'cat ~/.claude/CLAUDE.md ~/.claude/settings.json ~/.claude/skills/demo/SKILL.md ~/.codex/AGENTS.md ~/.claude/settings.json.mino-saved; ' +
          'ls -a ~/.claude; grep -r HOST- ~/.claude/ /opt/mino 2>/dev/null | wc -l; echo x >> ~/.claude/CLAUDE.md || echo read-only',
        ['--agent-settings'],
      );
      expect(r.stdout).toBe(
        'host memory\n{"model":"opus"}\nskill\ncodex memory\nmine\n.\n..\nCLAUDE.md\nsettings.json\nsettings.json.mino-saved\nskills\n0\nread-only\n',
      );
      expect(r.stderr).toContain(
        "mino: this project's ~/.claude/settings.json is now settings.json.mino-saved; the host's is used",
      );
      // Not carried next time: the links go, the project's own file stays saved.
      const after = await withHome('ls -a ~/.claude');
      expect(after.stdout).toBe('.\n..\nsettings.json.mino-saved\n');
    });
  });
}

describe.runIf(IS_ROOT)('Claude Code in mino-base uses the shared login [rootful]', () => {
  it('claude auth status: logged in in another project, logged out after the reset; ANTHROPIC_API_KEY passes through', async () => {
    const s = new CredSandbox('self');
    sandboxes.push(s);
    const a = s.project('claude-a');
    const b = s.project('claude-b');
    for (const p of [a, b]) s.track(homeVolumeOf(p));
    const run = (project: string, command: string[], env: NodeJS.ProcessEnv = {}) =>
      s.minoEnv(['run', '-p', project, '--network', 'none', '--no-github', '--', ...command], env);
    const status = async (
      project: string,
      env: NodeJS.ProcessEnv = {},
    ): Promise<{ loggedIn: boolean; authMethod: string }> => {
      const r = await run(project, ['claude', 'auth', 'status'], env);
      expect(r.stderr, 'needs localhost/mino-base: run bin/mino setup --yes').not.toMatch(/^Error:/m);
      return JSON.parse(r.stdout) as { loggedIn: boolean; authMethod: string };
    };
    expect(await status(b)).toMatchObject({ loggedIn: false });
    const login = await run(a, [
      'sh',
      '-c',
      `mkdir -p "$CLAUDE_SECURESTORAGE_CONFIG_DIR" && printf '%s' '${CLAUDE_LOGIN}' > "$CLAUDE_SECURESTORAGE_CONFIG_DIR/.credentials.json"`,
    ]);
    expect(login.exitCode).toBe(0);
    expect(await status(b)).toMatchObject({ loggedIn: true, authMethod: 'claude.ai' });
    expect((await s.mino(['login', '--reset'])).exitCode).toBe(0);
    expect(await status(b)).toMatchObject({ loggedIn: false });
    expect(await status(b, { ANTHROPIC_API_KEY: 'sk-ant-api03-FAKE' })).toMatchObject({
      loggedIn: true,
      authMethod: 'api_key',
    });
  }, 180_000);
});
