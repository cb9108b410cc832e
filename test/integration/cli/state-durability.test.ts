import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import type { RunAs } from '../../helpers/run-mino.js';
import { MODES, Sandbox, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE, minoArgv, rootlessPrefix, uidOf } from '../../helpers/test-env.js';

/**
 * Issue 18, durability and bad input, on real Podman rootful and rootless:
 * - a full state directory (a small tmpfs) during `mino stop` loses nothing: the container stays
 *   with its exit code and output until the end can be recorded, no 0-byte lock blocks later
 *   commands, gc reports no transition it could not save;
 * - a read-only state directory is one Error naming the directory and EROFS;
 * - an unknown session name is exit 2 for every session command;
 * - config set refuses a volume every run would refuse; two volumes on one container path exit 2;
 * - a closed stdout (`| head -1`) ends mino quietly.
 */

requirePrerequisites();

const boxes: Sandbox[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  for (const b of boxes) b.cleanup();
});

function sandbox(as: RunAs): { box: Sandbox; project: string; state: string } {
  const box = new Sandbox(as);
  box.env.MINO_IMAGE = TEST_IMAGE;
  boxes.push(box);
  return { box, project: box.project('proj'), state: box.env.XDG_STATE_HOME as string };
}

/** Mounts a tmpfs of `size` over `dir`, owned by the user mino runs as. */
function tmpfs(dir: string, as: RunAs, size: string, extra = ''): void {
  const uid = as === 'rootless' ? uidOf(ROOTLESS_USER)! : 0;
  const r = spawnSync(
    'mount',
    ['-t', 'tmpfs', '-o', `size=${size},mode=0700,uid=${uid},gid=${uid}${extra}`, 'tmpfs', dir],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  mounts.push(dir);
}

/** Fills the file system of `dir` to the last byte. */
function fill(dir: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });
  spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler2')}`, 'bs=1'], { encoding: 'utf8' });
  const df = spawnSync('df', ['--output=avail', dir], { encoding: 'utf8' }).stdout.trim().split('\n')[1]?.trim();
  expect(df).toBe('0');
}

function unfill(dir: string): void {
  for (const f of ['filler', 'filler2']) spawnSync('rm', ['-f', join(dir, f)]);
}

/** `exited`, `running`, … of the session's container; '' when there is none. */
function containerState(as: RunAs, name: string): string {
  const r = podmanAs(as, ['container', 'inspect', `mino-${name}`, '--format', '{{.State.Status}}']);
  return r.status === 0 ? r.stdout.trim() : '';
}

for (const as of MODES) {
  describe.runIf(IS_ROOT)(`state directory durability [${modeLabel(as)}]`, () => {
    it('a full disk during mino stop loses nothing: the container waits with its exit code and output, no lock is left, gc claims nothing it did not save', async () => {
      const { box, project, state } = sandbox(as);
      // Rootless podman keeps the mount namespace it started in and never sees this tmpfs: nothing
      // of the state directory may be mounted into the session (the CA bundle would be).
      expect((await box.mino(['config', 'set', 'container.host_ca_certificates', 'false'])).exitCode).toBe(0);
      tmpfs(state, as, '2m');
      const name = `dur-full-${hex(6)}`;
      const start = await box.mino([
        'run',
        '-d',
        '-n',
        name,
        '-p',
        project,
        '--network',
        'none',
        '--',
        'sh',
        '-c',
        'echo said-before-stop; sleep 300',
      ]);
      expect(start.exitCode, start.stderr).toBe(0);
      fill(state);

      const stop = await box.mino(['stop', name]);
      expect(stop.exitCode).toBe(1);
      expect(stop.stderr).toMatch(
        new RegExp(
          `^Error: Cannot write to mino's state directory ${state}/mino \\(.*\\): the file system is full \\(ENOSPC\\)\\nHint: Free space on the file system of ${state}/mino`,
          'm',
        ),
      );
      expect(stop.stderr).not.toMatch(/bug in mino/);
      // Stopped but kept: its exit code and output are still there.
      expect(containerState(as, name)).toBe('exited');
      // No lock (or temporary) left behind to block the next commands.
      expect(readdirSync(join(state, 'mino', 'sessions'))).toEqual([`${name}.json`]);

      const list = await box.mino(['list', '-a', '-f', 'json']);
      expect(list.exitCode, list.stderr).toBe(0);
      expect(list.stderr).toMatch(/Could not record the end of session .*the file system is full \(ENOSPC\)/);
      expect((JSON.parse(list.stdout) as { name: string; status: string }[]).find((s) => s.name === name)?.status).toBe(
        'running',
      );
      const gc = await box.mino(['gc']);
      expect(gc.exitCode).toBe(1);
      expect(gc.stdout).not.toMatch(/-> stopped/);
      expect(gc.stderr).toMatch(
        new RegExp(`Warning: Could not record the end of session '${name}' \\(running -> stopped\\)`),
      );
      expect(containerState(as, name)).toBe('exited');

      // Space again: the next list records the end and keeps the output, then removes the container.
      unfill(state);
      const after = await box.mino(['list', '-a', '-f', 'json']);
      expect(after.exitCode, after.stderr).toBe(0);
      expect(
        (JSON.parse(after.stdout) as { name: string; status: string; exit_code: number }[]).find(
          (s) => s.name === name,
        ),
      ).toMatchObject({ status: 'stopped', exit_code: 143 });
      expect(containerState(as, name)).toBe('');
      expect(await box.mino(['logs', name])).toMatchObject({ exitCode: 0, stdout: 'said-before-stop\n' });
    });

    it('a read-only state directory: one Error naming it and EROFS, exit 1, no container', async () => {
      const { box, project, state } = sandbox(as);
      tmpfs(state, as, '2m', ',ro');
      const name = `dur-ro-${hex(6)}`;
      const r = await box.mino(['run', '-n', name, '-p', project, '--network', 'none', '--', 'true']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^Error: Cannot write to mino's state directory ${state}/mino( \\(.*\\))?: the file system is read-only \\(EROFS\\)\\nHint: Remount the file system of .* read-write, or set XDG_STATE_HOME to a directory on another file system\\n`,
          'm',
        ),
      );
      expect(r.stderr).not.toMatch(/bug in mino/);
      expect(r.stderr.match(/^Error:/gm)).toHaveLength(1);
      expect(containerState(as, name)).toBe('');
    });
  });

  describe(`bad input [${modeLabel(as)}]`, () => {
    it('an unknown session is a usage error (exit 2) for every session command, and changes nothing', async () => {
      const { box, state } = sandbox(as);
      const commands = [
        ['stop', 'nope'],
        ['stop', '-f', 'nope'],
        ['logs', 'nope'],
        ['logs', 'nope', '-f'],
        ['exec', 'nope', 'true'],
        ['network', 'show', 'nope'],
        ['network', 'allow', 'nope', 'example.com:443'],
        ['network', 'deny', 'nope', 'example.com:443'],
        ['logs', 'nope', '--network'],
        ['attach', 'nope'],
        ['detach', 'nope'],
        ['suspend', 'nope'],
        ['resume', 'nope'],
      ];
      for (const argv of commands) {
        const r = await box.mino(argv);
        expect({ argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({
          argv,
          exitCode: 2,
          stdout: '',
          stderr: "Error: Session 'nope' not found\nHint: Run 'mino list -a' to see all sessions\n",
        });
      }
      expect(existsSync(join(state, 'mino', 'sessions', 'nope.json'))).toBe(false);
    });

    it('config set refuses a volume every run would refuse (exit 2, nothing written), globally and --local', async () => {
      const { box, project } = sandbox(as);
      const configFile = join(box.env.XDG_CONFIG_HOME as string, 'mino', 'config.toml');
      for (const [value, why, flag] of [
        ['/:/host', 'it is the root of the host file system', '--allow-home'],
        ['/etc:/e', 'it is the system directory /etc', '--allow-system-paths'],
      ] as const) {
        const r = await box.mino(['config', 'set', 'container.volumes', value]);
        expect(r).toMatchObject({ exitCode: 2, stdout: '' });
        expect(r.stderr).toBe(
          `Error: Invalid volume '${value}' for container.volumes: host path ${value.split(':')[0]}: ${why}\n` +
            `Hint: Every run would refuse it, so nothing was written; mount it for one run with --volume ${value} ${flag}, or mount a directory made for the purpose\n`,
        );
        expect(existsSync(configFile)).toBe(false);
        const local = await box.mino(['config', 'set', '--local', '-p', project, 'container.volumes', value]);
        expect(local.exitCode).toBe(2);
        expect(existsSync(join(project, '.mino.toml'))).toBe(false);
      }
      const ok = await box.mino(['config', 'set', 'container.volumes', `${box.project('vol')}:/data`]);
      expect(ok.exitCode, ok.stderr).toBe(0);
    });

    it("config show marks a project's [session] timeouts as ignored; config set --local refuses them (exit 2, nothing written)", async () => {
      const { box, project } = sandbox(as);
      const refused = await box.mino(['config', 'set', '--local', '-p', project, 'session.idle_timeout_secs', '60']);
      expect(refused).toMatchObject({ exitCode: 2, stdout: '' });
      expect(refused.stderr).toBe(
        "Error: session.idle_timeout_secs is read from the global config only: a project's .mino.toml cannot change it\n" +
          'Hint: Nothing was written; set it for every session with: mino config set session.idle_timeout_secs 60\n',
      );
      expect(existsSync(join(project, '.mino.toml'))).toBe(false);
      writeFileSync(join(project, '.mino.toml'), '[session]\nidle_timeout_secs = 60\n');
      const show = await box.mino(['config', 'show', '-p', project]);
      expect(show.stdout).toMatch(
        /^idle_timeout_secs = 300 +# default; idle_timeout_secs = 60 in the project file is ignored \(global config only\)$/m,
      );
      const json = JSON.parse((await box.mino(['config', 'show', '--json', '-p', project])).stdout) as {
        values: Record<string, unknown>;
      };
      expect(json.values['session.idle_timeout_secs']).toEqual({ value: 300, source: 'default', ignored_local: 60 });
    });

    it('two volumes on one container path: exit 2 with a hint, no session, no container', async () => {
      const { box, project, state } = sandbox(as);
      const [a, b] = [box.project('a'), box.project('b')];
      const name = `dur-twice-${hex(6)}`;
      const r = await box.mino([
        'run',
        '-n',
        name,
        '-p',
        project,
        '--network',
        'none',
        '--volume',
        `${a}:/d`,
        '--volume',
        `${b}:/d`,
        '--',
        'true',
      ]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `^Error: Two mounts use the container path /d: ${a} \\(--volume\\) and ${b} \\(--volume\\)\\nHint: Each container path can be mounted once`,
          'm',
        ),
      );
      expect(existsSync(join(state, 'mino', 'sessions', `${name}.json`))).toBe(false);
      expect(containerState(as, name)).toBe('');
    });

    it('a closed stdout (mino run --dry-run … | head -1) ends mino quietly: no stack trace, exit 0', async () => {
      const { box, project } = sandbox(as);
      writeFileSync(join(project, 'f'), '');
      const env = { ...process.env, ...box.env, NO_COLOR: '1' };
      const prefix =
        as === 'rootless' ? [...rootlessPrefix(), ...Object.entries(box.env).map(([k, v]) => `${k}=${String(v)}`)] : [];
      const argv = [...prefix, ...minoArgv(as), 'run', '--dry-run', '-p', project, '--', 'true'];
      const child = spawn(argv[0]!, argv.slice(1), { env, cwd: '/tmp', stdio: ['ignore', 'pipe', 'pipe'] });
      // Nobody reads: the pipe is closed before mino writes its first line.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).not.toMatch(/EPIPE|node:events|Unhandled/);
      expect(code).toBe(0);
    });
  });
}
