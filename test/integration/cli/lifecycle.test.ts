import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, rmSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import type { RunAs } from '../../helpers/run-mino.js';
import { MODES, Sandbox, hex, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { onTerminal } from '../../helpers/terminal.js';
import { IS_ROOT, ROOTLESS_USER, TEST_IMAGE, TEST_LABEL, TEST_RUN, uidOf } from '../../helpers/test-env.js';
import { waitFor } from '../../helpers/wait-for.js';

/**
 * The session lifecycle end to end on real Podman, rootful and rootless: run -d from a
 * terminal, attach (input reaches the session), detach by mino detach and by the key sequence,
 * suspend/resume (rootless on cgroup v1: one clear error, nothing changed), the states in mino list,
 * the timeout sweep (gc and the background sweep of any command), stats and status health.
 * Terminals come from util-linux `script`.
 */

requirePrerequisites();

const boxes: Sandbox[] = [];
afterAll(() => {
  for (const b of boxes) b.cleanup();
});

function sandbox(as: RunAs): { box: Sandbox; project: string; stateDir: string } {
  const box = new Sandbox(as);
  box.env.MINO_IMAGE = TEST_IMAGE;
  boxes.push(box);
  return { box, project: box.project('proj'), stateDir: join(box.env.XDG_STATE_HOME as string, 'mino') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Listed {
  name: string;
  state: string;
  status: string;
  exit_code: number | null;
  suspended_at?: string | null;
}

async function sessions(box: Sandbox): Promise<Listed[]> {
  const r = await box.mino(['list', '-a', '-f', 'json']);
  expect(r.exitCode).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

async function stateOf(box: Sandbox, name: string): Promise<string | undefined> {
  return (await sessions(box)).find((s) => s.name === name)?.state;
}

function auditEvents(stateDir: string): { event: string; data: Record<string, unknown> }[] {
  return readFileSync(join(stateDir, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> });
}

function writeConfig(box: Sandbox, text: string): void {
  const dir = join(box.env.XDG_CONFIG_HOME as string, 'mino');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.toml'), text, { mode: 0o644 });
  if (box.as === 'rootless' && IS_ROOT) {
    const uid = uidOf(ROOTLESS_USER)!;
    chownSync(dir, uid, uid);
    chownSync(join(dir, 'config.toml'), uid, uid);
  }
}

/** Says whether it has a terminal, ticks, and prints the terminal's size when it changes. */
const TICKER = [
  'sh',
  '-c',
  '[ -t 0 ] && echo has-tty; trap "echo size \\$(stty size)" WINCH; while :; do echo tick; sleep 1; done',
];

for (const as of MODES) {
  describe(`session lifecycle [${modeLabel(as)}]`, () => {
    // Container names are global to the engine: names of this run only.
    const tag = hex(6);
    const [n_lc, n_sr, n_done, n_quiet, n_quiet2, n_busy] = ['lc', 'sr', 'done', 'quiet', 'quiet2', 'busy'].map(
      (n) => `${n}-${tag}`,
    );
    it('run -d from a terminal, attach with input, detach by mino detach and by the keys; states follow', async () => {
      const { box, project } = sandbox(as);
      const started = onTerminal(box, [
        'run',
        '-d',
        '-n',
        `${n_lc}`,
        '-p',
        project,
        '--network',
        'none',
        '--',
        ...TICKER,
      ]);
      expect(await started.exited).toBe(0);
      expect(await stateOf(box, `${n_lc}`)).toBe('detached');
      await waitFor(async () => (await box.mino(['logs', `${n_lc}`])).stdout.includes('has-tty'));

      const first = onTerminal(box, ['attach', `${n_lc}`]);
      await waitFor(async () => (await stateOf(box, `${n_lc}`)) === 'active');
      first.child.stdin.write('hello-session\r');
      await waitFor(() => first.output().includes('hello-session') && first.output().includes('tick'));
      // The attached terminal is resized: the session's terminal follows.
      first.resize(33, 111);
      await waitFor(() => first.output().includes('size 33 111'));
      const detach = await box.mino(['detach', `${n_lc}`]);
      expect(detach.stderr).toMatch(
        new RegExp(`^Detached the client of session ${n_lc} \\(pid \\d+\\); the session runs on\n$`),
      );
      expect(detach.exitCode).toBe(0);
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain(`Detached from session ${n_lc}; it runs on`);
      expect(await stateOf(box, `${n_lc}`)).toBe('detached');

      const second = onTerminal(box, ['attach', `${n_lc}`]);
      await waitFor(async () => (await stateOf(box, `${n_lc}`)) === 'active');
      await waitFor(() => second.output().includes('tick'));
      // ctrl-p, then ctrl-q (podman misses the sequence when both bytes come in one read).
      second.child.stdin.write('\x10');
      await sleep(300);
      second.child.stdin.write('\x11');
      expect(await second.exited).toBe(0);
      const after = (await sessions(box)).find((s) => s.name === `${n_lc}`);
      expect(after).toMatchObject({ state: 'detached', status: 'running' });
      expect(
        auditEvents(join(box.env.XDG_STATE_HOME as string, 'mino'))
          .map((e) => e.event)
          .filter((e) => e === 'session.attached' || e === 'session.detached'),
      ).toEqual(['session.attached', 'session.detached', 'session.attached', 'session.detached']);
      const stop = await box.mino(['stop', `${n_lc}`]);
      expect(stop.exitCode).toBe(0);
      expect(await stateOf(box, `${n_lc}`)).toBe('terminated');
    });

    it(
      as === 'rootless'
        ? 'suspend is refused with the reason (cgroup v1), nothing changes'
        : 'suspend and resume pause and unpause the session',
      async () => {
        const { box, project } = sandbox(as);
        expect(
          (await box.mino(['run', '-d', '-n', `${n_sr}`, '-p', project, '--network', 'none', '--', 'sleep', '1000']))
            .exitCode,
        ).toBe(0);
        const suspend = await box.mino(['suspend', `${n_sr}`]);
        if (as === 'rootless') {
          expect(suspend.exitCode).toBe(1);
          expect(suspend.stderr).toBe(
            `Error: Cannot suspend session '${n_sr}': rootless Podman cannot pause containers on a cgroup v1 host (a rootless container has no cgroup of its own to freeze)\n` +
              `Hint: Suspending needs rootful Podman or a host with cgroup v2; the session keeps running (stop it with 'mino stop ${n_sr}')\n`,
          );
          const s = (await sessions(box)).find((x) => x.name === `${n_sr}`);
          expect(s).toMatchObject({ state: 'detached', status: 'running' });
          expect(s?.suspended_at).toBeUndefined();
          return;
        }
        expect(suspend).toMatchObject({
          exitCode: 0,
          stderr: `Session ${n_sr} suspended (mino resume ${n_sr} to continue)\n`,
        });
        expect(await stateOf(box, `${n_sr}`)).toBe('suspended');
        const again = await box.mino(['suspend', `${n_sr}`]);
        expect(again).toMatchObject({
          exitCode: 2,
          stderr: `Error: Session '${n_sr}' is already suspended\nHint: Resume it with 'mino resume ${n_sr}'\n`,
        });
        const attach = await box.mino(['attach', `${n_sr}`]);
        expect(attach.exitCode).toBe(2);
        expect(attach.stderr).toMatch(new RegExp(`^Error: Cannot attach to session '${n_sr}': it is suspended\n`));
        expect((await box.mino(['resume', `${n_sr}`])).exitCode).toBe(0);
        expect(await stateOf(box, `${n_sr}`)).toBe('detached');
        const notSuspended = await box.mino(['resume', `${n_sr}`]);
        expect(notSuspended).toMatchObject({
          exitCode: 2,
          stderr: `Error: Session '${n_sr}' is not suspended\nHint: It is running; suspend it with 'mino suspend ${n_sr}'\n`,
        });
        // Stop works on a suspended session too (thawed first).
        expect((await box.mino(['suspend', `${n_sr}`])).exitCode).toBe(0);
        expect((await box.mino(['stop', `${n_sr}`])).exitCode).toBe(0);
        expect(await stateOf(box, `${n_sr}`)).toBe('terminated');
      },
    );

    it('bad input: unknown or ended sessions, bad detach keys, bad timeouts: one error each, exit 2, nothing changed', async () => {
      const { box, project, stateDir } = sandbox(as);
      for (const verb of ['attach', 'detach', 'suspend', 'resume']) {
        const r = await box.mino([verb, 'nope']);
        expect(r).toMatchObject({
          exitCode: 2,
          stdout: '',
          stderr: "Error: Session 'nope' not found\nHint: Run 'mino list -a' to see all sessions\n",
        });
      }
      expect(
        (await box.mino(['run', '-n', `${n_done}`, '-p', project, '--network', 'none', '--', 'true'])).exitCode,
      ).toBe(0);
      const before = readFileSync(join(stateDir, 'sessions', `${n_done}.json`), 'utf8');
      for (const verb of ['attach', 'detach', 'suspend', 'resume']) {
        const r = await box.mino([verb, `${n_done}`]);
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toMatch(
          new RegExp(`^Error: Cannot \\w+( to)? session '${n_done}': it has ended \\(status: stopped\\)\nHint: `),
        );
      }
      expect(readFileSync(join(stateDir, 'sessions', `${n_done}.json`), 'utf8')).toBe(before);
      const keys = await box.mino(['attach', `${n_done}`, '--detach-keys', 'ctrl-pq']);
      expect(keys).toMatchObject({
        exitCode: 2,
        stderr:
          "Error: Invalid --detach-keys 'ctrl-pq'\nHint: Use characters or ctrl-<letter> separated by commas, e.g. ctrl-p,ctrl-q\n",
      });
      const negative = await box.mino(['config', 'set', 'session.idle_timeout_secs', '-5']);
      expect(negative.exitCode).toBe(2);
      expect(negative.stderr).toMatch(
        /^Error: Invalid value for session\.idle_timeout_secs: session\.idle_timeout_secs must be at least 0/,
      );
      const word = await box.mino(['config', 'set', 'session.detach_timeout_secs', 'soon']);
      expect(word).toMatchObject({
        exitCode: 2,
        stderr:
          "Error: session.detach_timeout_secs takes a whole number, not 'soon'\nHint: E.g. mino config set session.detach_timeout_secs 3600\n",
      });
      writeConfig(box, '[session]\nsuspend_timeout_secs = "a day"\n');
      const gc = await box.mino(['gc']);
      expect(gc.exitCode).toBe(1); // an invalid config file, as for every key
      expect(gc.stderr).toMatch(
        /^Error: Invalid config .*config\.toml: session\.suspend_timeout_secs must be an integer, not string "a day"\nHint: /,
      );
      expect(readFileSync(join(stateDir, 'sessions', `${n_done}.json`), 'utf8')).toBe(before);
    });

    it(`timeouts: gc stops an idle session and keeps a busy one, any command sweeps in the background; pool containers are left alone; stats count it`, async () => {
      const { box, project, stateDir } = sandbox(as);
      const key = createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
      // Named and labelled as the warm pool names its unclaimed containers (session-labels.ts).
      const pool = podmanAs(as, [
        'run',
        '-d',
        '--init',
        '--network',
        'none',
        '--name',
        `mino.warm.${hex(12)}.${hex(8)}`,
        '--label',
        `io.mino.pool=k1`,
        '--label',
        `io.mino.state=${key}`,
        '--label',
        'io.mino.owner-pid=4194000',
        '--label',
        `${TEST_LABEL}=${TEST_RUN}`,
        TEST_IMAGE,
        'sleep',
        '1000',
      ]);
      expect(pool.status).toBe(0);
      const poolId = pool.stdout.trim();
      try {
        for (const [name, cmd] of [
          [`${n_quiet}`, ['sleep', '1000']],
          [`${n_busy}`, ['sh', '-c', 'while :; do echo x; sleep 1; done']],
        ] as const) {
          const r = await box.mino(['run', '-d', '-n', name, '-p', project, '--network', 'none', '--', ...cmd]);
          expect(r.stderr).not.toMatch(/^Error/m);
          expect(r.exitCode).toBe(0);
        }
        // Short timeouts only now: the runs' own background sweeps must not beat gc to it.
        writeConfig(box, '[session]\nidle_timeout_secs = 2\ndetach_timeout_secs = 0\n');
        await sleep(3500);
        const gc = await box.mino(['gc']);
        expect(gc.exitCode).toBe(0);
        expect(gc.stdout).toMatch(
          new RegExp(`^stopped session ${n_quiet}: idle timeout \\(2 s\\) passed \\(exit code 143\\)$`, 'm'),
        );
        expect(gc.stdout).toMatch(new RegExp(`^kept session ${n_busy}: printed output at `, 'm'));
        expect(gc.stdout).not.toMatch(/container .*(removed|would remove)/);
        const listed = await sessions(box);
        expect(listed.find((s) => s.name === `${n_quiet}`)).toMatchObject({
          state: 'terminated',
          status: 'stopped',
          exit_code: 143,
        });
        expect(listed.find((s) => s.name === `${n_busy}`)).toMatchObject({ state: 'detached', status: 'running' });
        const expired = auditEvents(stateDir).filter((e) => e.event === 'session.expired');
        expect(expired).toEqual([
          expect.objectContaining({
            data: expect.objectContaining({ name: `${n_quiet}`, reason: 'idle', timeout_secs: 2, exit_code: 143 }),
          }),
        ]);
        const stats = await box.mino(['stats', '-f', 'json']);
        expect(stats.exitCode).toBe(0);
        expect(JSON.parse(stats.stdout)).toMatchObject({
          timeout_destroys: 1,
          detached_sessions: 1,
          active_sessions: 0,
          active_sandboxes: 1,
          pool_size: 0,
        });

        // The background sweep: any command, once a minute at most (the stamp is removed here).
        expect(
          (
            await box.mino([
              'run',
              '-d',
              '-n',
              `${n_quiet2}`,
              '-p',
              project,
              '--network',
              'none',
              '--',
              'sleep',
              '1000',
            ])
          ).exitCode,
        ).toBe(0);
        await sleep(3000);
        rmSync(join(stateDir, 'last-sweep'), { force: true });
        expect((await box.mino(['--version'])).exitCode).toBe(0);
        await waitFor(async () => (await stateOf(box, `${n_quiet2}`)) === 'terminated', 30_000);
        // The sweep records the session's end before it counts the expiry.
        await waitFor(
          async () =>
            (JSON.parse((await box.mino(['stats', '-f', 'json'])).stdout) as { timeout_destroys: number })
              .timeout_destroys === 2,
          10_000,
        );
        // The warm pool container survived gc and both sweeps.
        expect(podmanAs(as, ['ps', '-q', '--filter', `id=${poolId}`]).stdout.trim()).not.toBe('');
      } finally {
        podmanAs(as, ['rm', '-f', poolId]);
      }
    });

    it('status reports session health (states, pool, timeouts, disk budget)', async () => {
      const { box } = sandbox(as);
      const r = await box.mino(['status', '-f', 'json'], 300_000);
      const report = JSON.parse(r.stdout) as { checks: { id: string; status: string; detail: string }[] };
      const ids = report.checks.map((c) => c.id);
      expect(ids).toEqual(expect.arrayContaining(['sessions.states', 'pool.size', 'sessions.expired', 'disk.budget']));
      expect(report.checks.find((c) => c.id === 'sessions.states')?.detail).toBe(
        '0 active, 0 detached, 0 suspended; 0 stopped by timeouts so far',
      );
      expect(report.checks.find((c) => c.id === 'sessions.expired')?.status).toBe('ok');
    });
  });
}
