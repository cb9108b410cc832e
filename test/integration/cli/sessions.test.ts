import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino, type RunAs } from '../../helpers/run-mino.js';
import {
  IS_ROOT,
  MINO_BIN,
  ROOTFUL_PROJECT_OWNER,
  minoBinFor,
  ownProject,
  ROOTLESS_USER,
  TEST_IMAGE,
  rootlessPrefix,
  stateKeyOf,
  uidOf,
} from '../../helpers/test-env.js';
import { waitFor } from '../../helpers/wait-for.js';
import { MODES, modeLabel } from '../../helpers/sandbox.js';

requirePrerequisites();

interface Session {
  name: string;
  status: string;
  exit_code: number | null;
  container_id: string | null;
  mode: string;
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups) c();
});

/** A test environment: isolated XDG dirs and a project directory owned by the user mino runs as. */
function sandbox(as: RunAs): { env: NodeJS.ProcessEnv; project: string; stateDir: string } {
  const xdg = isolatedXdg(as);
  const project = join(xdg.root, 'myproject');
  mkdirSync(project);
  ownProject(project, as);
  cleanups.push(() => {
    // Containers carry io.mino.state of this state dir; stop anything left by a failed test.
    const prefix = as === 'rootless' ? rootlessPrefix() : [];
    const key = stateKeyOf(join(xdg.XDG_STATE_HOME, 'mino'));
    const ids = spawnSync(
      prefix[0] ?? 'podman',
      [...prefix.slice(1), ...(prefix.length ? ['podman'] : []), 'ps', '-aq', '--filter', `label=io.mino.state=${key}`],
      { encoding: 'utf8' },
    )
      .stdout.split('\n')
      .filter(Boolean);
    if (ids.length)
      spawnSync(prefix[0] ?? 'podman', [...prefix.slice(1), ...(prefix.length ? ['podman'] : []), 'rm', '-f', ...ids]);
    rmSync(xdg.root, { recursive: true, force: true });
  });
  const env = {
    XDG_CONFIG_HOME: xdg.XDG_CONFIG_HOME,
    XDG_STATE_HOME: xdg.XDG_STATE_HOME,
    XDG_DATA_HOME: xdg.XDG_DATA_HOME,
    MINO_IMAGE: TEST_IMAGE,
    ...xdg.podmanEnv,
  };
  return { env, project, stateDir: join(xdg.XDG_STATE_HOME, 'mino') };
}

async function list(as: RunAs, env: NodeJS.ProcessEnv): Promise<Session[]> {
  const r = await runMino(['list', '-a', '-f', 'json'], { as, env });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Session[];
}

/** Starts `mino run` in the background (for signals and kill -9); returns the child. */
function spawnMino(as: RunAs, args: string[], env: NodeJS.ProcessEnv, cwd: string): ReturnType<typeof spawn> {
  const prefix = as === 'rootless' ? rootlessPrefix() : [];
  const extra = Object.entries({ NO_COLOR: '1', ...env }).map(([k, v]) => `${k}=${v}`);
  const argv = prefix.length
    ? [...prefix, ...extra, process.execPath, minoBinFor(as), ...args]
    : [process.execPath, MINO_BIN, ...args];
  return spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: prefix.length ? process.env : { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** PID of the `node …/mino` process inside a (possibly runuser-wrapped) child. */
function minoPid(child: ReturnType<typeof spawn>): number {
  const out = spawnSync('pgrep', ['-f', '-P', String(child.pid), 'bin/mino'], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out.split('\n')[0]) : child.pid!;
}

for (const as of MODES) {
  const label = modeLabel(as);
  describe(`sessions [${label}]`, () => {
    it('exits with the command exit code and records the session as stopped with it', async () => {
      const { env, project } = sandbox(as);
      const r = await runMino(
        [
          'run',
          '-n',
          'code',
          '-p',
          project,
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          'echo to-stdout; echo to-stderr >&2; exit 7',
        ],
        { as, env },
      );
      expect(r.stderr).toBe('to-stderr\n');
      expect(r.exitCode).toBe(7);
      expect(r.stdout).toBe('to-stdout\n');
      expect(r.stderr).toBe('to-stderr\n');
      const [s] = await list(as, env);
      expect(s).toMatchObject({ name: 'code', status: 'stopped', exit_code: 7, mode: 'command' });
    });

    it('mounts the project at /<folder> and files written there belong to the host user', async () => {
      const { env, project } = sandbox(as);
      const r = await runMino(
        ['run', '-p', project, '--network', 'none', '--', 'sh', '-c', 'pwd && echo data > created.txt'],
        { as, env },
      );
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('/myproject\n');
      const owner = statSync(join(project, 'created.txt')).uid;
      expect(owner).toBe(
        as === 'rootless' && IS_ROOT ? uidOf(ROOTLESS_USER) : IS_ROOT ? ROOTFUL_PROJECT_OWNER : process.getuid?.(),
      );
    });

    it('applies the hardening flags: no capabilities, no new privileges', async () => {
      const { env, project } = sandbox(as);
      const r = await runMino(
        [
          'run',
          '-p',
          project,
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
        ],
        { as, env },
      );
      expect(r.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    });

    it('refuses bad session names before any container or file exists', async () => {
      const { env, project, stateDir } = sandbox(as);
      for (const bad of ['../x', 'a/b', '', 'x'.repeat(300), 'semi;colon', '-x', '--rm']) {
        const r = await runMino(['run', '-n', bad, '-p', project, '--network', 'none', '--', 'true'], { as, env });
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toMatch(/^Error: Invalid session name/m);
      }
      expect(existsSync(join(stateDir, 'sessions'))).toBe(false);
      const ps = await runMino(['gc', '--dry-run'], { as, env });
      expect(ps.stdout).toBe('Nothing to clean up\n');
    });

    it('runs detached; logs keep stdout and stderr apart; exec returns codes; stop records the end', async () => {
      const { env, project } = sandbox(as);
      const start = await runMino(
        [
          'run',
          '-d',
          '-n',
          'bg',
          '-p',
          project,
          '--network',
          'none',
          '--',
          'sh',
          '-c',
          'echo out-line; echo err-line >&2; sleep 300',
        ],
        { as, env },
      );
      expect(start.exitCode, start.stderr).toBe(0);
      expect(start.stdout).toBe('');
      expect(start.stderr).toMatch(/Session bg started/);
      await waitFor(async () => (await runMino(['logs', 'bg'], { as, env })).stdout.includes('out-line'));
      const logs = await runMino(['logs', 'bg'], { as, env });
      expect(logs).toMatchObject({ exitCode: 0, stdout: 'out-line\n', stderr: 'err-line\n' });
      expect((await runMino(['exec', 'bg', '--', 'sh', '-c', 'exit 4'], { as, env })).exitCode).toBe(4);
      const newest = await runMino(['exec', '--', 'cat', '/proc/1/cmdline'], { as, env });
      expect(newest.exitCode).toBe(0);
      expect((await list(as, env))[0]).toMatchObject({ name: 'bg', status: 'running', mode: 'detached' });
      const stop = await runMino(['stop', 'bg'], { as, env });
      expect(stop.exitCode).toBe(0);
      expect(stop.stderr).toMatch(/Session bg stopped \(exit code 143\)/);
      expect((await list(as, env))[0]).toMatchObject({ status: 'stopped', exit_code: 143 });
      const again = await runMino(['stop', 'bg'], { as, env });
      expect(again.stderr).toMatch(/already stopped/);
      const gone = await runMino(['logs', 'bg'], { as, env });
      expect(gone.exitCode).toBe(1);
      expect(gone.stderr).toMatch(/has no container any more/);
    });

    it('reconciles a detached session whose command exited by itself, with its exit code', async () => {
      const { env, project } = sandbox(as);
      expect(
        (
          await runMino(['run', '-d', '-n', 'short', '-p', project, '--network', 'none', '--', 'sh', '-c', 'exit 6'], {
            as,
            env,
          })
        ).exitCode,
      ).toBe(0);
      await waitFor(async () => (await list(as, env))[0]?.status === 'stopped');
      expect((await list(as, env))[0]).toMatchObject({ name: 'short', status: 'stopped', exit_code: 6 });
      const audit = readFileSync(join(env.XDG_STATE_HOME!, 'mino', 'audit.log'), 'utf8');
      expect(audit).toMatch(/"event":"session.reconciled"/);
    });

    it('reuses a name once its session has ended, not while it runs', async () => {
      const { env, project } = sandbox(as);
      expect(
        (await runMino(['run', '-n', 'again', '-p', project, '--network', 'none', '--', 'true'], { as, env })).exitCode,
      ).toBe(0);
      expect(
        (await runMino(['run', '-n', 'again', '-p', project, '--network', 'none', '--', 'true'], { as, env })).exitCode,
      ).toBe(0);
      expect(
        (
          await runMino(['run', '-d', '-n', 'again', '-p', project, '--network', 'none', '--', 'sleep', '60'], {
            as,
            env,
          })
        ).exitCode,
      ).toBe(0);
      const busy = await runMino(['run', '-n', 'again', '-p', project, '--network', 'none', '--', 'true'], { as, env });
      expect(busy.exitCode).toBe(1);
      expect(busy.stderr).toMatch(/Error: Session 'again' already exists/);
      await runMino(['stop', '-f', 'again'], { as, env });
    });

    it('lets exactly one of several concurrent runs with the same name win', async () => {
      const { env, project } = sandbox(as);
      const runs = await Promise.all(
        [0, 1, 2, 3].map(() =>
          runMino(['run', '-d', '-n', 'race', '-p', project, '--network', 'none', '--', 'sleep', '60'], { as, env }),
        ),
      );
      expect(runs.filter((r) => r.exitCode === 0)).toHaveLength(1);
      for (const r of runs.filter((x) => x.exitCode !== 0)) expect(r.stderr).toMatch(/already exists/);
      await runMino(['stop', '-f', 'race'], { as, env });
    });

    it('stops the container and records the session when mino gets SIGTERM', async () => {
      const { env, project } = sandbox(as);
      const child = spawnMino(
        as,
        ['run', '-n', 'sig', '-p', project, '--network', 'none', '--', 'sleep', '300'],
        env,
        project,
      );
      await waitFor(async () => (await list(as, env))[0]?.status === 'running');
      await new Promise((r) => setTimeout(r, 500));
      process.kill(minoPid(child), 'SIGTERM');
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(code).toBe(143);
      expect((await list(as, env))[0]).toMatchObject({ name: 'sig', status: 'stopped', exit_code: 143 });
    });

    it('after kill -9 of mino: the session stays running while its container lives, then gets fixed', async () => {
      const { env, project } = sandbox(as);
      const child = spawnMino(
        as,
        ['run', '-n', 'k9', '-p', project, '--network', 'none', '--', 'sleep', '300'],
        env,
        project,
      );
      await waitFor(async () => (await list(as, env))[0]?.status === 'running');
      await new Promise((r) => setTimeout(r, 500));
      process.kill(minoPid(child), 'SIGKILL');
      // The orphaned podman client keeps the pipes open: wait for the exit, not for 'close'.
      if (child.exitCode === null) await new Promise((r) => child.on('exit', r));
      expect((await list(as, env))[0]).toMatchObject({ name: 'k9', status: 'running' });
      const stop = await runMino(['stop', 'k9'], { as, env });
      expect(stop.exitCode).toBe(0);
      const [s] = await list(as, env);
      expect(s?.status).toBe('stopped');
    });

    it('gc removes a labelled container whose session file is gone and whose owner died', async () => {
      const { env, project, stateDir } = sandbox(as);
      expect(
        (
          await runMino(['run', '-d', '-n', 'orphan', '-p', project, '--network', 'none', '--', 'sleep', '300'], {
            as,
            env,
          })
        ).exitCode,
      ).toBe(0);
      unlinkSync(join(stateDir, 'sessions', 'orphan.json'));
      const dry = await runMino(['gc', '--dry-run'], { as, env });
      expect(dry.stdout).toMatch(/would remove container mino-orphan/);
      const gc = await runMino(['gc'], { as, env });
      expect(gc.stdout).toMatch(/removed container mino-orphan/);
      expect((await runMino(['gc', '--dry-run'], { as, env })).stdout).toBe('Nothing to clean up\n');
    });

    it('keeps the output of a finished detached session for mino logs until mino stop', async () => {
      const { env, project } = sandbox(as);
      expect(
        (
          await runMino(
            [
              'run',
              '-d',
              '-n',
              'said',
              '-p',
              project,
              '--network',
              'none',
              '--',
              'sh',
              '-c',
              'echo hi; echo oops >&2; exit 3',
            ],
            { as, env },
          )
        ).exitCode,
      ).toBe(0);
      // mino list reconciles: it records the exit code and removes the finished container.
      await waitFor(async () => (await list(as, env))[0]?.status === 'stopped');
      expect((await list(as, env))[0]).toMatchObject({ name: 'said', status: 'stopped', exit_code: 3 });
      expect(await runMino(['logs', 'said'], { as, env })).toMatchObject({
        exitCode: 0,
        stdout: 'hi\n',
        stderr: 'oops\n',
      });
      expect(await runMino(['logs', 'said', '-f'], { as, env })).toMatchObject({
        exitCode: 0,
        stdout: 'hi\n',
        stderr: 'oops\n',
      });
      expect((await runMino(['stop', 'said'], { as, env })).stderr).toMatch(/already stopped/);
      const gone = await runMino(['logs', 'said'], { as, env });
      expect(gone.exitCode).toBe(1);
      expect(gone.stderr).toMatch(/has no container any more/);
    });

    it('gc stops a session whose mino was killed while its command ran on', async () => {
      const { env, project } = sandbox(as);
      const child = spawnMino(
        as,
        ['run', '-n', 'lost', '-p', project, '--network', 'none', '--', 'sleep', '300'],
        env,
        project,
      );
      await waitFor(async () => (await list(as, env))[0]?.status === 'running');
      await new Promise((r) => setTimeout(r, 500));
      process.kill(minoPid(child), 'SIGKILL');
      if (child.exitCode === null) await new Promise((r) => child.on('exit', r));
      const dry = await runMino(['gc', '--dry-run'], { as, env });
      expect(dry.stdout).toMatch(/would stop session lost: its mino process died/);
      expect((await list(as, env))[0]).toMatchObject({ name: 'lost', status: 'running' });
      const gc = await runMino(['gc'], { as, env });
      expect(gc.stdout).toMatch(/stopped session lost/);
      expect((await list(as, env))[0]).toMatchObject({ name: 'lost', status: 'stopped' });
      expect((await runMino(['gc', '--dry-run'], { as, env })).stdout).toBe('Nothing to clean up\n');
    });

    it('gc never removes the container of a session whose file cannot be read', async () => {
      const { env, project, stateDir } = sandbox(as);
      expect(
        (
          await runMino(['run', '-d', '-n', 'garbled', '-p', project, '--network', 'none', '--', 'sleep', '300'], {
            as,
            env,
          })
        ).exitCode,
      ).toBe(0);
      writeFileSync(join(stateDir, 'sessions', 'garbled.json'), '{ not json');
      const gc = await runMino(['gc'], { as, env });
      expect(gc.stdout).toMatch(/kept container mino-garbled: its session file cannot be read/);
      expect(gc.stderr).toMatch(/Warning: Skipping session file .*garbled\.json/);
      const prefix = as === 'rootless' ? rootlessPrefix() : [];
      const ps = spawnSync(
        prefix[0] ?? 'podman',
        [...prefix.slice(1), ...(prefix.length ? ['podman'] : []), 'ps', '--format', '{{.Names}}'],
        { encoding: 'utf8', cwd: '/' },
      );
      expect(ps.stdout.split('\n')).toContain('mino-garbled');
    });

    it('refuses the home directory as project unless --allow-home', async () => {
      const { env } = sandbox(as);
      const home = as === 'rootless' && IS_ROOT ? `/home/${ROOTLESS_USER}` : (process.env.HOME ?? '/root');
      const r = await runMino(['run', '-p', home, '--dry-run', '--', 'true'], { as, env: { ...env, HOME: home } });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/--allow-home/);
      const ok = await runMino(['run', '-p', home, '--allow-home', '--dry-run', '--', 'true'], {
        as,
        env: { ...env, HOME: home },
      });
      expect(ok.exitCode).toBe(0);
    });

    it('keeps an audit log of mode 0600 with the session events', async () => {
      const { env, project, stateDir } = sandbox(as);
      await runMino(
        ['run', '-n', 'audited', '-p', project, '--network', 'none', '-e', 'API_TOKEN=hunter2', '--', 'true'],
        { as, env },
      );
      const path = join(stateDir, 'audit.log');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const events = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string });
      expect(events.map((e) => e.event)).toEqual(['session.created', 'session.started', 'session.stopped']);
      expect(readFileSync(path, 'utf8')).not.toContain('hunter2');
    });

    it('reports a missing image with one error and records nothing', async () => {
      const { env, project } = sandbox(as);
      const r = await runMino(
        ['run', '-p', project, '--network', 'none', '--image', 'localhost/mino-test-missing:1', '--', 'true'],
        {
          as,
          env,
        },
      );
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toBe(
        'Error: Image localhost/mino-test-missing:1 is not available locally\nHint: Build or pull it first (podman pull localhost/mino-test-missing:1), or pass another --image\n',
      );
      expect(await list(as, env)).toEqual([]);
    });
  });
}
