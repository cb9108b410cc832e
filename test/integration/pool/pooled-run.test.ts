import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { IS_ROOT, ROOTLESS_USER, uidOf } from '../../helpers/test-env.js';
import { MODES, Sandbox, modeLabel } from '../../helpers/sandbox.js';
import { onTerminal } from '../../helpers/terminal.js';
import {
  buildNamedUserImage,
  buildUserImage,
  eventually,
  minoPid,
  poolStatus,
  sandboxContainers,
  waitForPool,
  writePoolConfig,
  sandboxCounters,
} from './pool-helpers.js';
import { chownSync } from 'node:fs';

requirePrerequisites();

/**
 * A pooled run is indistinguishable from a cold one: the same probe (identity, environment,
 * mounts, capabilities, limits, working directory, umask, hostname pattern) run both ways gives
 * the same output once the container's own ID is masked; the exit code, session record, audit
 * events are the same. Image: busybox with mino-base's entrypoint and its named user, named like a
 * composed image (home volume, uid 1000), so both modes run in seconds.
 */
const PROBE = [
  'id',
  'env | sort',
  'sort /proc/self/mounts',
  'grep -E "^(Groups|Cap|NoNewPrivs|Seccomp)" /proc/self/status',
  'ulimit -a',
  'pwd',
  'umask',
  'hostname',
  'ls -ld /cache/npm',
  'exit 3',
].join('; echo ---; ');

/**
 * Masks what must differ between two containers: their IDs (hostname) and overlay layer paths,
 * and drops the warm agent's directory, mounted into every warm container (pool/warm-agent-dir.ts).
 */
function normalise(out: string, hostname: string): string {
  return out
    .split(hostname)
    .join('<container>')
    .replace(/(upperdir|workdir)=[^,\s]+/g, '$1=<layer>')
    .replace(/^\S+ \/run\/mino\/agent .*\n/m, '');
}

for (const as of MODES) {
  describe(`pooled run [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let image = '';
    let project = '';
    beforeAll(() => {
      image = buildNamedUserImage(as);
      project = sandbox.project('proj');
      // A lockfile: the runs mount an npm cache volume, finalised when the command exits 0.
      writeFileSync(join(project, 'package-lock.json'), '{"lockfileVersion":3}\n');
      if (as === 'rootless' && IS_ROOT)
        chownSync(join(project, 'package-lock.json'), uidOf(ROOTLESS_USER)!, uidOf(ROOTLESS_USER)!);
      writePoolConfig(sandbox, { warm_ttl: 300 });
    });
    afterAll(async () => {
      await sandbox.mino(['pool', 'drain']);
      sandbox.cleanup();
    });

    const flags = (): string[] => ['-p', project, '--network', 'none', '--image', image];

    it('gives the same probe output, exit code, record and audit events warm and cold', async () => {
      const warm = await sandbox.mino(['pool', 'warm', '-n', '1', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      expect(warm.stdout).toMatch(/^Pool [0-9a-f]{12}: 1 warm \(1 started\)/);
      const dry = await sandbox.mino(['run', '--dry-run', ...flags(), '--', 'true']);
      expect(dry.stdout).toMatch(/^# Pool: a warm container would serve this run/m);

      const pooled = await sandbox.mino(['run', '-n', 'pooled', ...flags(), '--', 'sh', '-c', PROBE]);
      const cold = await sandbox.mino(['run', '-n', 'cold', '--fresh', ...flags(), '--', 'sh', '-c', PROBE]);
      expect(pooled.exitCode, pooled.stderr).toBe(3);
      expect(cold.exitCode, cold.stderr).toBe(3);
      expect(pooled.stderr).toBe(cold.stderr);
      const host = (out: string): string => out.split('---\n')[7]!.trim();
      expect(host(pooled.stdout)).toMatch(/^[0-9a-f]{12}$/);
      expect(host(cold.stdout)).toMatch(/^[0-9a-f]{12}$/);
      expect(normalise(pooled.stdout, host(pooled.stdout))).toBe(normalise(cold.stdout, host(cold.stdout)));
      expect(pooled.stdout).toMatch(/uid=1000/);
      expect(pooled.stdout).toMatch(/ \/home\/developer /);
      expect(pooled.stdout).toMatch(/ \/cache\/npm /);

      const list = await sandbox.mino(['list', '-a', '-f', 'json']);
      const records = JSON.parse(list.stdout) as {
        name: string;
        status: string;
        exit_code: number;
        mode: string;
        command: string[];
      }[];
      const pick = (n: string) => {
        const r = records.find((x) => x.name === n)!;
        return { status: r.status, exit_code: r.exit_code, mode: r.mode, command: r.command };
      };
      expect(pick('pooled')).toEqual(pick('cold'));

      const audit = readFileSync(join(sandbox.env.XDG_STATE_HOME as string, 'mino', 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event?: string; type?: string; name?: string; data?: { name?: string } });
      const events = (n: string): string[] =>
        audit.filter((e) => JSON.stringify(e).includes(`"name":"${n}"`)).map((e) => String(e.event ?? e.type));
      expect(events('pooled').length).toBeGreaterThan(1);
      expect(events('pooled')).toEqual(events('cold'));

      // The pool refills to its size; the used container is removed, never returned.
      const settled = await waitForPool(sandbox, (s) => s.warm_total === 1);
      expect(settled.pools[0]).toMatchObject({ target: 1, warm: 1 });
      // Counted: the warm container, its replacement and the cold run; one hit, no miss (--fresh).
      const counters = sandboxCounters(sandbox);
      expect(counters).toMatchObject({ pool_hits: 1, pool_misses: 0, sandboxes_created: 3 });
      expect(counters.creation_ms_total).toBeGreaterThan(0);
      await eventually(
        () => !sandboxContainers(sandbox).some((c) => c.name === 'mino-pooled'),
        'the used container to go',
      );
    });

    it('exits 127 and 126 like a cold run, with the same messages', async () => {
      await waitForPool(sandbox, (s) => s.warm_total === 1);
      const missing = await sandbox.mino(['run', ...flags(), '--', 'no-such-tool']);
      expect(missing.exitCode).toBe(127);
      expect(missing.stderr).toMatch(/^Error: command not found in the image: no-such-tool\nHint: /m);
      await waitForPool(sandbox, (s) => s.warm_total === 1);
      const notExec = await sandbox.mino(['run', ...flags(), '--', '/etc/passwd']);
      expect(notExec.exitCode).toBe(126);
      expect(notExec.stderr).toMatch(/^Error: command is not executable in the image: \/etc\/passwd$/m);
      const counters = sandboxCounters(sandbox);
      expect(counters.pool_hits).toBe(3);
    });

    it('a SIGTERM to mino reaches the command in a warm container, as in a cold run', async () => {
      await waitForPool(sandbox, (s) => s.warm_total === 1);
      const script = 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.2; done';
      const term = async (extra: string[]) => {
        const { spawn } = await import('node:child_process');
        const { runMinoArgv } = await import('../../helpers/terminal.js');
        const argv = runMinoArgv(sandbox, ['run', ...extra, ...flags(), '--', 'sh', '-c', script]);
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        await new Promise<void>((resolve) =>
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            if (out.includes('ready')) resolve();
          }),
        );
        process.kill(as === 'rootless' && IS_ROOT ? minoPid(child.pid!) : child.pid!, 'SIGTERM');
        const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
        return { code, out };
      };
      const pooled = await term([]);
      const cold = await term(['--fresh']);
      expect(pooled).toEqual({ code: 42, out: 'ready\ngot-term\n' });
      expect(cold).toEqual(pooled);
    });

    it('a SIGINT to mino (no terminal) reaches the command once, as SIGINT, warm and cold: a shell ends with 130', async () => {
      const script = 'n=0; trap "n=\\$((n+1)); echo int\\$n" INT; echo ready; sleep 1; sleep 1; echo after=$n';
      // Warm once (this test may run alone); each pooled run's refill brings the pool back to 1.
      const warm = await sandbox.mino(['pool', 'warm', '-n', '1', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      const interrupt = async (extra: string[], command: string[]) => {
        await waitForPool(sandbox, (s) => s.warm_total === 1);
        const { spawn } = await import('node:child_process');
        const { runMinoArgv } = await import('../../helpers/terminal.js');
        const argv = runMinoArgv(sandbox, ['run', ...extra, ...flags(), '--', ...command]);
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        await new Promise<void>((resolve) =>
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            if (out.includes('ready')) resolve();
          }),
        );
        process.kill(as === 'rootless' && IS_ROOT ? minoPid(child.pid!) : child.pid!, 'SIGINT');
        const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
        return { code, out };
      };
      // A shell killed by SIGINT: 130 (it was 143, a SIGTERM 5 s later, in a cold run).
      const killed = ['sh', '-c', 'echo ready; exec sleep 300'];
      expect(await interrupt([], killed)).toEqual({ code: 130, out: 'ready\n' });
      expect(await interrupt(['--fresh'], killed)).toEqual({ code: 130, out: 'ready\n' });
      // A command that handles SIGINT gets it exactly once and goes on.
      const handled = ['sh', '-c', script];
      expect(await interrupt([], handled)).toEqual({ code: 0, out: 'ready\nint1\nafter=1\n' });
      expect(await interrupt(['--fresh'], handled)).toEqual({ code: 0, out: 'ready\nint1\nafter=1\n' });
    });

    it('Ctrl-C on a terminal reaches the command as SIGINT, warm and cold: a shell ends with 130', async () => {
      const warm = await sandbox.mino(['pool', 'warm', '-n', '1', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      const onTty = async (extra: string[]): Promise<number> => {
        await waitForPool(sandbox, (s) => s.warm_total === 1);
        const t = onTerminal(sandbox, ['run', ...extra, ...flags(), '--', 'sh', '-c', 'echo ready; exec sleep 300']);
        await eventually(() => t.output().includes('ready'), 'the command to start');
        t.child.stdin.write('\x03');
        return t.exited;
      };
      expect(await onTty([])).toBe(130);
      expect(await onTty(['--fresh'])).toBe(130);
    });

    it('on a terminal: the same terminal warm and cold, resizes reach the command, its exit code comes back', async () => {
      const warm = await sandbox.mino(['pool', 'warm', '-n', '1', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      const probe = '[ -t 0 ] && echo tty-in; [ -t 1 ] && echo tty-out; stty size; echo "term=$TERM"; tty';
      const onTty = async (extra: string[]): Promise<string> => {
        await waitForPool(sandbox, (s) => s.warm_total === 1);
        const t = onTerminal(sandbox, ['run', ...extra, ...flags(), '--', 'sh', '-c', probe], { rows: 31, cols: 101 });
        expect(await t.exited, t.output()).toBe(0);
        return t.output().replace(/\r/g, '');
      };
      const hits = sandboxCounters(sandbox).pool_hits!;
      const pooled = await onTty([]);
      expect(sandboxCounters(sandbox).pool_hits).toBe(hits + 1);
      const cold = await onTty(['--fresh']);
      expect(pooled).toMatch(/^tty-in\ntty-out\n31 101\nterm=[^\n]*\n\/dev\/pts\/0\n$/);
      expect(pooled).toBe(cold);

      await waitForPool(sandbox, (s) => s.warm_total === 1);
      const resized = onTerminal(sandbox, [
        'run',
        ...flags(),
        '--',
        'sh',
        '-c',
        'trap "echo size \\$(stty size); exit 5" WINCH; echo ready; while :; do sleep 0.2; done',
      ]);
      await eventually(() => resized.output().includes('ready'), 'the warm command to start');
      resized.resize(27, 97);
      expect(await resized.exited).toBe(5);
      expect(resized.output()).toContain('size 27 97');
      expect(sandboxCounters(sandbox).pool_hits, resized.output()).toBe(hits + 2);
    });

    it('warm containers remove themselves after warm_ttl, and drain removes the rest', async () => {
      // The previous test's pool refills in the background after its last claim: counted below.
      await waitForPool(sandbox, (s) => s.warm_total === 1);
      writePoolConfig(sandbox, { warm_ttl: 20 });
      const warm = await sandbox.mino(['pool', 'warm', '-n', '2', ...flags(), '--volume', `${project}:/extra`]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      const warmNames = sandboxContainers(sandbox)
        .filter((c) => c.name.startsWith('mino.warm.') && c.labels['io.mino.pool'] !== undefined)
        .map((c) => c.name);
      expect(warmNames.length).toBeGreaterThanOrEqual(3);
      // gc leaves warm containers alone: they are the pool's, not orphans.
      const gc = await sandbox.mino(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(sandboxContainers(sandbox).filter((c) => c.name.startsWith('mino.warm.')).length).toBe(warmNames.length);
      const ttl2 = (await poolStatus(sandbox)).pools.find((p) => p.target === 2)!;
      expect(ttl2.warm).toBe(2);
      await eventually(
        () => {
          const names = new Set(sandboxContainers(sandbox).map((c) => c.name));
          return ttl2.next_expiry !== null && warmNames.filter((n) => names.has(n)).length === 1;
        },
        'the 20-second warm containers to expire',
        120_000,
      );
      expect((await poolStatus(sandbox)).warm_total).toBe(1);
      const drain = await sandbox.mino(['pool', 'drain']);
      expect(drain.exitCode, drain.stderr).toBe(0);
      expect(drain.stderr).toMatch(/Removed 1 warm container\(s\) of 2 pool\(s\)/);
      expect(sandboxContainers(sandbox).filter((c) => c.name.startsWith('mino.warm.'))).toEqual([]);
      expect((await poolStatus(sandbox)).pools).toEqual([]);
    });
  });
}

for (const as of MODES) {
  describe(`pool warm refuses what it cannot keep warm [${modeLabel(as)}]`, () => {
    const sandbox = new Sandbox(as);
    let project = '';
    beforeAll(() => {
      project = sandbox.project('proj');
    });
    afterAll(() => sandbox.cleanup());

    it('bad -n, detached plans and numeric image users: one clear error, exit 2, nothing started', async () => {
      const numeric = buildUserImage(as, '1000');
      const cases: [string[], RegExp][] = [
        [['-n', '0'], /^Error: Invalid -n 0: the number of warm containers must be at least 1\nHint: /m],
        [['-n', 'many'], /^Error: Invalid -n 'many': not a whole number\nHint: /m],
        [['-n', '1', '-d'], /^Error: This run cannot be kept warm: a detached session/m],
        [
          ['-n', '1', '--image', numeric],
          /^Error: This run cannot be kept warm: the image runs as user 1000, whose group mino does not know/m,
        ],
      ];
      for (const [args, message] of cases) {
        const r = await sandbox.mino(['pool', 'warm', '-p', project, '--network', 'none', ...args]);
        expect(r.exitCode, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
      }
      expect(sandboxContainers(sandbox)).toEqual([]);
      expect((await poolStatus(sandbox)).pools).toEqual([]);
    });

    it('bad [pool] values in the config: exit 2 with the key named', async () => {
      writePoolConfig(sandbox, { min_warm: 5, max_warm: 3 });
      const r = await sandbox.mino(['pool', 'status']);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(
        /^Error: Invalid \[pool\] configuration: min_warm \(5\) is above max_warm \(3\)\nHint: /m,
      );
      writePoolConfig(sandbox, {});
      for (const [key, value] of [
        ['pool.warm_ttl', '-5'],
        ['pool.max_warm', '0'],
        ['pool.min_warm', 'many'],
      ]) {
        const r = await sandbox.mino(['config', 'set', key!, '--', value!]);
        expect(r.exitCode, r.stderr).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^Error: .*${key!.replace('.', '\\.')}.*\nHint: `, 'm'));
      }
      expect(readFileSync(join(sandbox.env.XDG_CONFIG_HOME as string, 'mino', 'config.toml'), 'utf8')).toBe('[pool]\n');
    });
  });
}
