import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino, type MinoResult, type RunAs } from '../../helpers/run-mino.js';
import {
  IN_CI,
  IS_ROOT,
  REPO_ROOT,
  ROOTLESS_USER,
  TEST_IMAGE,
  binaryProblem,
  minoArgv,
  rootlessPrefix,
  type Cli,
  ownProject,
} from '../../helpers/test-env.js';
import { waitFor } from '../../helpers/wait-for.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';

/**
 * The CLI smoke tests, run against both builds of mino: bin/mino (Node + dist/mino.cjs) and the
 * single executable dist/mino (start-up snapshot: every child process it starts is started after
 * deserialisation). run with exit codes and separate streams, detached sessions with list, logs
 * and stop, a forwarded SIGTERM, a terminal (TTY passed through, the readline prompt), -v logging.
 */

requirePrerequisites();
const problem = binaryProblem();
if (problem && IN_CI) throw new Error(problem);
if (problem) console.warn(`[sea] running the smoke tests against bin/mino only: ${problem}`);

const clis: Cli[] = problem ? ['launcher'] : ['launcher', 'binary'];
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups) c();
});

interface Session {
  name: string;
  status: string;
  exit_code: number | null;
  mode: string;
}

/** Isolated XDG dirs and a project owned by the user mino runs as. */
function sandbox(as: RunAs): { env: NodeJS.ProcessEnv; project: string; root: string } {
  const xdg = isolatedXdg(as);
  const project = join(xdg.root, 'proj');
  mkdirSync(project);
  ownProject(project, as);
  cleanups.push(() => rmSync(xdg.root, { recursive: true, force: true }));
  const env = {
    XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
    XDG_STATE_HOME: xdg.XDG_STATE_HOME,
    XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    MINO_IMAGE: TEST_IMAGE,
    ...xdg.podmanEnv,
  };
  return { env, project, root: xdg.root };
}

/** argv running this CLI as `as` with the environment `env` (through runuser for rootless). */
function commandLine(
  cli: Cli,
  as: RunAs,
  env: NodeJS.ProcessEnv,
  args: string[],
): { argv: string[]; env: NodeJS.ProcessEnv } {
  const prefix = as === 'rootless' ? rootlessPrefix() : [];
  if (prefix.length === 0)
    return { argv: [...minoArgv(as, cli), ...args], env: { ...process.env, NO_COLOR: '1', ...env } };
  const extra = Object.entries({ NO_COLOR: '1', ...env }).map(([k, v]) => `${k}=${v}`);
  return { argv: [...prefix, ...extra, ...minoArgv(as, cli), ...args], env: process.env };
}

/** Runs mino in a pseudo-terminal (util-linux `script`), typing `answer` once `[y/N]` shows. */
function inTerminal(cli: Cli, as: RunAs, env: NodeJS.ProcessEnv, args: string[], answer = ''): Promise<MinoResult> {
  const quote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const { argv, env: spawnEnv } = commandLine(cli, as, { ...env, TERM: 'dumb' }, args);
  const clean: NodeJS.ProcessEnv = { ...spawnEnv };
  for (const k of ['CI', 'GITHUB_ACTIONS', 'GITLAB_CI']) delete clean[k];
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', argv.map(quote).join(' '), '/dev/null'], {
      cwd: '/tmp',
      env: clean,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('[y/N]') && !child.stdin.writableEnded) child.stdin.end(answer);
    });
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: out.replace(/\r/g, ''), stderr: '', exitCode: code ?? 1 });
    });
  });
}

for (const cli of clis) {
  for (const as of MODES) {
    const label = `${cli === 'binary' ? 'dist/mino' : 'bin/mino'}, ${modeLabel(as)}`;
    describe(`CLI smoke [${label}]`, () => {
      const mino = (args: string[], env: NodeJS.ProcessEnv): Promise<MinoResult> => runMino(args, { as, cli, env });
      const list = async (env: NodeJS.ProcessEnv): Promise<Session[]> => {
        const r = await mino(['list', '-a', '-f', 'json'], env);
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
        return JSON.parse(r.stdout) as Session[];
      };

      it('run: exit codes 0, 1, 42 and 127 pass through; stdout and stderr stay apart', async () => {
        const { env, project } = sandbox(as);
        const run = (n: string, ...cmd: string[]): Promise<MinoResult> =>
          mino(['run', '-n', n, '-p', project, '--network', 'none', '--', ...cmd], env);
        expect(await run('ok', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2')).toEqual({
          exitCode: 0,
          stdout: 'to-stdout\n',
          stderr: 'to-stderr\n',
        });
        expect(await run('one', 'sh', '-c', 'exit 1')).toMatchObject({ exitCode: 1, stdout: '' });
        expect(await run('answer', 'sh', '-c', 'echo before; exit 42')).toMatchObject({
          exitCode: 42,
          stdout: 'before\n',
        });
        // 127 (command not found) is a start failure: the session is recorded as failed.
        const missing = await run('missing', 'sh', '-c', 'no-such-command');
        expect(missing.exitCode).toBe(127);
        expect(missing.stderr).toMatch(/no-such-command: not found/);
        const sessions = await list(env);
        expect(sessions.map((s) => [s.name, s.status, s.exit_code]).sort()).toEqual([
          ['answer', 'stopped', 42],
          ['missing', 'failed', 127],
          ['ok', 'stopped', 0],
          ['one', 'stopped', 1],
        ]);
      });

      it('detached: list shows it running, logs keep the streams apart, stop records exit 143; -v logs to stderr', async () => {
        const { env, project } = sandbox(as);
        const start = await mino(
          [
            'run',
            '-d',
            '-n',
            'sea-bg',
            '-p',
            project,
            '--network',
            'none',
            '--',
            'sh',
            '-c',
            'echo out-line; echo err-line >&2; sleep 300',
          ],
          env,
        );
        expect(start.exitCode, start.stderr).toBe(0);
        expect(start.stderr).toMatch(/Session sea-bg started/);
        await waitFor(async () => (await mino(['logs', 'sea-bg'], env)).stdout.includes('out-line'));
        expect(await mino(['logs', 'sea-bg'], env)).toEqual({
          exitCode: 0,
          stdout: 'out-line\n',
          stderr: 'err-line\n',
        });
        expect((await list(env))[0]).toMatchObject({ name: 'sea-bg', status: 'running', mode: 'detached' });
        // pino, loaded on the first log line (bundled, outside the snapshot's loaded modules).
        const verbose = await mino(['-vv', 'list', '-f', 'json'], env);
        expect(verbose.exitCode).toBe(0);
        expect(JSON.parse(verbose.stdout)).toHaveLength(1);
        const logLine = verbose.stderr.split('\n').find((l) => l.includes('"msg":"podman"'));
        expect(logLine).toBeDefined();
        expect(JSON.parse(logLine!)).toMatchObject({ level: 20, name: 'mino', msg: 'podman' });
        const stop = await mino(['stop', 'sea-bg'], env);
        expect(stop.exitCode).toBe(0);
        expect(stop.stderr).toMatch(/Session sea-bg stopped \(exit code 143\)/);
        expect((await list(env))[0]).toMatchObject({ status: 'stopped', exit_code: 143 });
      });

      it('forwards SIGTERM: the container stops, mino exits 143 and records it', async () => {
        const { env, project } = sandbox(as);
        const { argv, env: spawnEnv } = commandLine(cli, as, env, [
          'run',
          '-n',
          'sea-sig',
          '-p',
          project,
          '--network',
          'none',
          '--',
          'sleep',
          '300',
        ]);
        const child = spawn(argv[0]!, argv.slice(1), { cwd: '/tmp', env: spawnEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
        await waitFor(async () => (await list(env))[0]?.status === 'running');
        await new Promise((r) => setTimeout(r, 500));
        // Rootless: runuser's child is mino (env execs it); otherwise the child itself.
        const pid =
          as === 'rootless' && IS_ROOT
            ? Number(
                spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
                  .stdout.trim()
                  .split('\n')[0],
              )
            : child.pid!;
        expect(pid).toBeGreaterThan(0);
        process.kill(pid, 'SIGTERM');
        expect(await closed).toBe(143);
        expect((await list(env))[0]).toMatchObject({ name: 'sea-sig', status: 'stopped', exit_code: 143 });
      });

      it('in a terminal: the command gets a TTY and its exit code; the trust prompt reads the answer', async () => {
        const { env, project, root } = sandbox(as);
        const tty = await inTerminal(cli, as, env, [
          'run',
          '-p',
          project,
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          '[ -t 0 ] && [ -t 1 ] && echo has-a-tty; exit 5',
        ]);
        expect(tty.stdout).toContain('has-a-tty');
        expect(tty.exitCode).toBe(5);
        // A project whose .mino.toml asks for more access: mino asks (readline) and skips on No.
        const hostile = join(root, 'hostile');
        cpSync(join(REPO_ROOT, 'test', 'fixtures', 'config', 'hostile-project'), hostile, { recursive: true });
        if (as === 'rootless' && IS_ROOT) spawnSync('chown', ['-R', `${ROOTLESS_USER}:${ROOTLESS_USER}`, hostile]);
        const asked = await inTerminal(cli, as, env, ['run', '--dry-run', '-p', hostile, '--', 'true'], 'n\n');
        expect(asked.stdout).toContain('Trust this project content and continue? [y/N]');
        expect(asked.stdout).toContain('Project content skipped.');
        expect(asked.exitCode).toBe(0);
      });
    });
  }
}

// One engine only (status runs several probe containers: ~10 s per CLI); the smoke tests above
// cover both engines with both CLIs.
if (clis.includes('binary')) {
  for (const as of MODES.slice(0, 1)) {
    describe(`dist/mino and bin/mino agree [${modeLabel(as)}]`, () => {
      it('status -f json: the same checks and results (engine facts, probe containers, base image from the embedded layers)', async () => {
        const { env } = sandbox(as);
        const [launcher, binary] = [
          await runMino(['status', '-f', 'json'], { as, env }),
          await runMino(['status', '-f', 'json'], { as, cli: 'binary', env }),
        ];
        expect(launcher.exitCode).toBe(0);
        const checks = (JSON.parse(launcher.stdout) as { checks: Array<{ id: string }> }).checks.map((c) => c.id);
        expect(checks).toEqual(expect.arrayContaining(['engine', 'probe.none', 'image.base']));
        expect(binary).toEqual(launcher);
      });
    });
  }
}
