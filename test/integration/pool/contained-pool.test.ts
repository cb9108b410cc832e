import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { runMinoArgv } from '../../helpers/terminal.js';
import { waitFor } from '../../helpers/wait-for.js';
import { egressProxyPids, startHostServers, stateKeyOf, type HostServers } from '../network/network-helpers.js';
import {
  buildNamedUserImage,
  sandboxContainers,
  sandboxCounters,
  waitForPool,
  writePoolConfig,
} from './pool-helpers.js';
import { pidAlive } from '../../../src/common/pid-alive.js';

requirePrerequisites();

/**
 * The contained default (no network flag: the agent allowlist through a per-session egress proxy)
 * served by the warm pool, rootful and rootless: each warm container has a proxy of its own that
 * allows nothing until a run claims it; the claim hands it that run's policy and name, so the
 * session reaches what it allows and nothing else, `mino network allow|show NAME` reach it live,
 * and its blocked summary comes back as for a cold session. Two claims get two proxies; drain and
 * a container that ends (as at its expiry) end them; a warm container whose proxy died is never
 * handed out. Local listeners stand in for the internet.
 */

let servers: HostServers;
beforeAll(async () => {
  servers = await startHostServers();
});
afterAll(async () => {
  await servers?.close();
});

for (const as of MODES) {
  describe(`contained default served warm [${modeLabel(as)}]`, () => {
    const mode = modeLabel(as);
    const sandbox = new Sandbox(as);
    let image = '';
    let project = '';
    let stateKey = '';
    beforeAll(() => {
      image = buildNamedUserImage(as);
      project = sandbox.project('proj');
      stateKey = stateKeyOf(join(sandbox.env.XDG_STATE_HOME as string, 'mino'));
      writePoolConfig(sandbox, { warm_ttl: 300 });
    });
    afterAll(async () => {
      await sandbox.mino(['pool', 'drain']);
      sandbox.cleanup();
    });

    // No network flag: the contained default.
    const flags = (): string[] => ['-p', project, '--no-home', '--image', image];
    const host = (port: number): string => `host.containers.internal:${port}`;
    const fetch = (port: number, path: string): string =>
      `if timeout 5 wget -q -O /dev/null http://${host(port)}${path} 2>/dev/null; then echo ok; else echo blocked; fi`;
    /** The egress proxies of the warm containers now, by container name. */
    const warmProxies = (): Map<string, number> =>
      new Map(
        sandboxContainers(sandbox)
          .filter((c) => c.name.startsWith('mino.warm.'))
          .map((c) => [c.name, egressProxyPids(stateKey, c.name)[0] ?? -1]),
      );

    it('serves default runs warm with their own policy, live allow included; two claims, two proxies', async () => {
      const warm = await sandbox.mino(['pool', 'warm', '-n', '2', ...flags()]);
      expect(warm.exitCode, warm.stderr).toBe(0);
      await waitForPool(sandbox, (s) => s.warm_total === 2);
      const dry = await sandbox.mino(['run', '--dry-run', ...flags(), '--', 'true']);
      expect(dry.stdout).toContain('# presets: agent');
      expect(dry.stdout).toMatch(/^# Pool: a warm container would serve this run/m);
      const before = warmProxies();
      expect(before.size).toBe(2);
      for (const pid of before.values()) expect(pidAlive(pid)).toBe(true);

      const name = `a-${mode}`;
      const script = [
        fetch(servers.allowedHttp, `/a1-${mode}`),
        'echo ready',
        'read x',
        fetch(servers.allowedHttp, `/a2-${mode}`),
        fetch(servers.deniedHttp, `/a3-${mode}`),
      ].join('; ');
      const argv = runMinoArgv(sandbox, ['run', '-n', name, ...flags(), '--', 'sh', '-c', script]);
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
      await waitFor(() => out.includes('ready'), 30_000, 'the pooled session to start');
      // Found by the session's name: the warm proxy moved to it, with the agent preset's rules.
      const show = await sandbox.mino(['network', 'show', name, '-f', 'json']);
      expect(show.exitCode, show.stderr).toBe(0);
      const shown = JSON.parse(show.stdout) as {
        live: boolean;
        record: { session: string; policy: { allow: string[] } };
      };
      expect(shown.live).toBe(true);
      expect(shown.record.session).toBe(name);
      expect(shown.record.policy.allow).toContain('api.anthropic.com:443');
      const allow = await sandbox.mino(['network', 'allow', name, host(servers.allowedHttp)]);
      expect(allow.exitCode, allow.stderr).toBe(0);
      child.stdin.end('go\n');
      expect(await exited, err).toBe(0);
      expect(out).toBe('blocked\nready\nok\nblocked\n');
      expect(err).toMatch(new RegExp(`mino: blocked .*${host(servers.deniedHttp).replace(/\./g, '\\.')}`));
      expect(servers.hits).toContain(`allowed /a2-${mode}`);
      expect(servers.hits).not.toContain(`allowed /a1-${mode}`);
      expect(servers.hits).not.toContain(`denied /a3-${mode}`);
      // The claimed proxy was one of the warm ones, and ended with its session; the other still waits.
      await waitFor(() => [...before.values()].filter(pidAlive).length === 1, 10_000, 'the used proxy to end');

      // Another claim gets the other proxy, with its own policy: not the rule allowed live above.
      const b = await sandbox.mino([
        'run',
        '-n',
        `b-${mode}`,
        ...flags(),
        '--',
        'sh',
        '-c',
        fetch(servers.allowedHttp, `/b1-${mode}`),
      ]);
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.stdout).toBe('blocked\n');
      expect(servers.hits).not.toContain(`allowed /b1-${mode}`);
      expect(sandboxCounters(sandbox)).toMatchObject({ pool_hits: 2 });
      await waitFor(() => [...before.values()].filter(pidAlive).length === 0, 10_000, 'both used proxies to end');
    }, 120_000);

    it('never hands out a container whose proxy died; drain and a container that ends end their proxies', async () => {
      const settled = await waitForPool(sandbox, (s) => s.warm_total === 2);
      expect(settled.warm_total).toBe(2);
      const proxies = warmProxies();
      const [deadName, dead] = [...proxies.entries()][0]!;
      const [goneName, gone] = [...proxies.entries()][1]!;
      process.kill(dead, 'SIGKILL');
      // Its container ended as at its expiry: the other's proxy goes with it.
      expect(podmanAs(as, ['rm', '-f', goneName]).status).toBe(0);
      await waitFor(() => !pidAlive(gone), 10_000, 'the proxy of the removed container to end');
      const hits = sandboxCounters(sandbox).pool_hits;
      const c = await sandbox.mino([
        'run',
        '-n',
        `c-${mode}`,
        ...flags(),
        '--',
        'sh',
        '-c',
        fetch(servers.deniedHttp, '/c'),
      ]);
      expect(c.exitCode, c.stderr).toBe(0);
      expect(c.stdout).toBe('blocked\n');
      expect(sandboxCounters(sandbox).pool_hits).toBe(hits);
      await waitFor(() => !sandboxContainers(sandbox).some((x) => x.name === deadName), 20_000, 'it to be removed');

      // Learn mode is a pool of its own; the claimed proxy learns for the session, which reports as a cold one.
      const learn = ['--network', 'learn', ...flags()];
      expect((await sandbox.mino(['pool', 'warm', '-n', '1', ...learn])).exitCode).toBe(0);
      await waitForPool(sandbox, (s) => s.warm_total === 3);
      const l = await sandbox.mino([
        'run',
        '-n',
        `l-${mode}`,
        ...learn,
        '--save',
        '--',
        'sh',
        '-c',
        fetch(servers.deniedHttp, '/l'),
      ]);
      expect(l.exitCode, l.stderr).toBe(0);
      expect(l.stdout).toBe('blocked\n'); // learn never opens the host
      expect(l.stderr).toMatch(new RegExp(`mino: session l-${mode} used 0 destinations`));
      expect(l.stderr).toContain('Nothing to save');
      expect(sandboxCounters(sandbox).pool_hits).toBe((hits ?? 0) + 1);

      await waitForPool(sandbox, (s) => s.warm_total === 3);
      const refilled = [...warmProxies().values()];
      expect(refilled.every(pidAlive)).toBe(true);
      const drain = await sandbox.mino(['pool', 'drain']);
      expect(drain.exitCode, drain.stderr).toBe(0);
      await waitFor(() => !refilled.some(pidAlive), 10_000, 'the drained proxies to end');
    }, 120_000);
  });
}
