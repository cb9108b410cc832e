import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { isolatedXdg, runMino } from '../../helpers/run-mino.js';
import { IN_CI, IS_ROOT, TEST_IMAGE, minoBinFor, rootlessPrefix } from '../../helpers/test-env.js';
import { MODES, Sandbox, modeLabel, podmanAs } from '../../helpers/sandbox.js';
import { egressProxyPids, resolvableName, startHostServers, stateKeyOf, type HostServers } from './network-helpers.js';
import { waitFor } from '../../helpers/wait-for.js';
import { pidAlive } from '../../../src/common/pid-alive.js';

requirePrerequisites();

/**
 * A session's egress proxy over its life, on real Podman (rootful and rootless): it outlives a
 * detached `mino run`, takes `mino network allow/deny` without a restart, reports to `mino
 * network show` and `mino logs --network`, dies with its session (also after `kill -9` of the mino
 * that started it), and is reaped by `mino gc` when it did not; `--network learn --save` writes an
 * allowlist the next run uses; bad rules and contradictions are refused before anything starts.
 */

const BASE = 'localhost/mino-base:latest';

let servers: HostServers;
let mirror: string | undefined;
beforeAll(async () => {
  servers = await startHostServers();
  mirror = await resolvableName();
});
afterAll(async () => {
  await servers?.close();
});

describe.each(MODES)('egress proxy lifecycle [%s]', (as) => {
  const mode = modeLabel(as);
  let box: Sandbox;
  let project = '';
  let stateKey = '';
  const host = (port: number): string => `host.containers.internal:${port}`;
  /** A fetch through the proxy printing ok/blocked (busybox wget runs in both images). */
  const fetch = (port: number, path: string): string =>
    `if timeout 5 wget -q -O /dev/null http://${host(port)}${path} 2>/dev/null; then echo ok; else echo blocked; fi`;

  beforeAll(() => {
    box = new Sandbox(as);
    project = box.project('proj');
    stateKey = stateKeyOf(join(box.env.XDG_STATE_HOME as string, 'mino'));
  });
  afterAll(() => box?.cleanup());

  const exec = async (name: string, script: string): Promise<string> => {
    const r = await box.mino(['exec', name, '--', 'sh', '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it('a detached session keeps its proxy after mino run returns; allow/deny change it live; stop ends it', async () => {
    const name = `det-${mode}`;
    const r = await box.mino([
      'run',
      '-d',
      '-n',
      name,
      '-p',
      project,
      '--image',
      TEST_IMAGE,
      '--no-home',
      '--network-allow',
      host(servers.allowedHttp),
      '--',
      'sleep',
      '300',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const pids = egressProxyPids(stateKey, name);
    expect(pids).toHaveLength(1);
    const pid = pids[0]!;
    expect(pidAlive(pid)).toBe(true);

    const list = JSON.parse((await box.mino(['list', '-f', 'json'])).stdout) as Array<{
      name: string;
      network: string;
    }>;
    expect(list.find((s) => s.name === name)?.network).toBe('allowlist');
    expect((await box.mino(['list'])).stdout).toMatch(new RegExp(`${name}\\s+Detached\\s+running\\s+-\\s+allowlist`));

    expect(await exec(name, `${fetch(servers.allowedHttp, '/d1')}; ${fetch(servers.deniedHttp, '/d2')}`)).toBe(
      'ok\nblocked',
    );
    const allow = await box.mino(['network', 'allow', name, host(servers.deniedHttp)]);
    expect(allow.exitCode, allow.stderr).toBe(0);
    expect(allow.stderr).toContain(`allow: ${host(servers.allowedHttp)}, ${host(servers.deniedHttp)}`);
    expect(await exec(name, fetch(servers.deniedHttp, '/d3'))).toBe('ok');
    const deny = await box.mino(['network', 'deny', name, host(servers.allowedHttp)]);
    expect(deny.exitCode, deny.stderr).toBe(0);
    expect(await exec(name, `${fetch(servers.allowedHttp, '/d4')}; ${fetch(servers.deniedHttp, '/d5')}`)).toBe(
      'blocked\nok',
    );
    expect(servers.hits).toContain('denied /d3');
    expect(servers.hits).not.toContain('allowed /d4');

    const show = JSON.parse((await box.mino(['network', 'show', name, '-f', 'json'])).stdout) as {
      live: boolean;
      record: {
        policy: { allow: string[]; deny: string[] };
        destinations: Array<{ destination: string; allowed: number; denied: number }>;
      };
    };
    expect(show.live).toBe(true);
    expect(show.record.policy).toMatchObject({ allow: [host(servers.deniedHttp)], deny: [host(servers.allowedHttp)] });
    expect(show.record.destinations.find((d) => d.destination === host(servers.allowedHttp))).toMatchObject({
      allowed: 1,
      denied: 1,
    });
    // HTTPS rules on method and path change live too, request by request.
    const l7 = await box.mino(['network', 'allow', name, `GET ${host(servers.l7Http)}/live-${mode}/*`]);
    expect(l7.exitCode, l7.stderr).toBe(0);
    expect(await exec(name, `${fetch(servers.l7Http, `/live-${mode}/1`)}; ${fetch(servers.l7Http, '/other')}`)).toBe(
      'ok\nblocked',
    );
    const l7deny = await box.mino(['network', 'deny', name, `GET ${host(servers.l7Http)}/live-${mode}/1`]);
    expect(l7deny.exitCode, l7deny.stderr).toBe(0);
    expect(
      await exec(name, `${fetch(servers.l7Http, `/live-${mode}/1`)}; ${fetch(servers.l7Http, `/live-${mode}/2`)}`),
    ).toBe('blocked\nok');
    expect(servers.hits.filter((h) => h.startsWith('l7 ') && h.includes(`/live-${mode}/`)).sort()).toEqual([
      `l7 GET /live-${mode}/1`,
      `l7 GET /live-${mode}/2`,
    ]);
    const logs = await box.mino(['logs', name, '--network']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(new RegExp(`${host(servers.deniedHttp).replace(/\./g, '\\.')}\\s+2\\s+1\\s+0`));
    expect(logs.stdout).toContain(`mino network allow ${name} ${host(servers.allowedHttp)}`);

    const stop = await box.mino(['stop', name]);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(stop.stderr).toMatch(/mino: blocked 4 connections: /);
    expect(await waitFor(() => !pidAlive(pid))).toBe(true);
    const after = JSON.parse((await box.mino(['network', 'show', name, '-f', 'json'])).stdout) as {
      live: boolean;
      record: { ended_at: string | null };
    };
    expect(after.live).toBe(false);
    expect(after.record.ended_at).not.toBeNull();
  });

  it('an attached session keeps its proxy after kill -9 of its mino, until its container ends', async () => {
    const name = `k9-${mode}`;
    const prefix = as === 'rootless' ? rootlessPrefix() : [];
    const extra = Object.entries({ NO_COLOR: '1', ...box.env }).map(([k, v]) => `${k}=${v}`);
    const argv = [
      ...prefix,
      ...(prefix.length > 0 ? extra : []),
      process.execPath,
      minoBinFor(as),
      'run',
      '-n',
      name,
      '-p',
      project,
      '--image',
      TEST_IMAGE,
      '--no-home',
      '--network-allow',
      host(servers.allowedHttp),
      '--',
      'sleep',
      '12',
    ];
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...box.env }, cwd: '/tmp', stdio: 'ignore' });
    expect(
      await waitFor(async () =>
        (await box.mino(['network', 'show', name, '-f', 'json'])).stdout.includes('"live": true'),
      ),
    ).toBe(true);
    const pid = egressProxyPids(stateKey, name)[0]!;
    // The whole process chain of that mino run (runuser, env, node) dies at once.
    const minoPid = spawnSync('pgrep', ['-f', `run -n ${name} `], { encoding: 'utf8' })
      .stdout.split('\n')
      .map(Number)
      .filter((n) => n > 0 && n !== child.pid);
    for (const p of [child.pid!, ...minoPid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    expect(pidAlive(pid)).toBe(true);
    expect(await exec(name, fetch(servers.allowedHttp, '/k9'))).toBe('ok');
    expect(await waitFor(() => !pidAlive(pid), 30_000)).toBe(true);
    const list = JSON.parse((await box.mino(['list', '-a', '-f', 'json'])).stdout) as Array<{
      name: string;
      status: string;
    }>;
    expect(list.find((s) => s.name === name)?.status).toBe('stopped');
  }, 120_000);

  it('mino gc stops a proxy whose session is over (a hung one included)', async () => {
    const name = `gc-${mode}`;
    const r = await box.mino([
      'run',
      '-d',
      '-n',
      name,
      '-p',
      project,
      '--image',
      TEST_IMAGE,
      '--no-home',
      '--network-allow',
      host(servers.allowedHttp),
      '--',
      'sleep',
      '300',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const pid = egressProxyPids(stateKey, name)[0]!;
    // A proxy that cannot notice its container go: stopped, then the container removed behind mino's back.
    process.kill(pid, 'SIGSTOP');
    try {
      // podman 4.3 can fail to unmount a container it has just killed (EBUSY); mino's own remove retries the same way.
      let rm = podmanAs(as, ['rm', '-f', `mino-${name}`]);
      for (let i = 0; i < 3 && rm.status !== 0 && /device or resource busy/.test(rm.stderr); i++) {
        await new Promise((r) => setTimeout(r, 500));
        rm = podmanAs(as, ['rm', '-f', `mino-${name}`]);
      }
      expect(rm.status, rm.stderr).toBe(0);
      const gc = await box.mino(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(gc.stdout).toContain(`stopped the egress proxy of session ${name}`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await waitFor(() => !pidAlive(pid))).toBe(true);
  });

  it('--network learn records every destination and --save writes the allowlist the next run uses', async () => {
    if (!mirror) {
      if (IN_CI) throw new Error('no Debian mirror in the apt sources of this host to learn');
      return;
    }
    const learnProject = box.project('learn');
    const r = await box.mino([
      'run',
      '-p',
      learnProject,
      '--image',
      TEST_IMAGE,
      '--no-home',
      '--network',
      'learn',
      '--save',
      '--',
      'sh',
      '-c',
      `timeout 10 wget -q -O /dev/null http://${mirror}/ 2>/dev/null; ${fetch(servers.allowedHttp, '/learn-host')}`,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('blocked'); // learn never opens the host
    // Plain HTTP requests were seen: learn proposes the narrowest rule on method and path.
    expect(r.stderr).toContain(`network_allow = ["GET ${mirror}:80/"`);
    expect(r.stderr).toMatch(/Saved network_allow \(\d+ rules?\)/);
    const toml = readFileSync(join(learnProject, '.mino.toml'), 'utf8');
    expect(toml).toContain(`"GET ${mirror}:80/"`);
    const next = await box.mino([
      'run',
      '-p',
      learnProject,
      '--image',
      TEST_IMAGE,
      '--no-home',
      '--',
      'sh',
      '-c',
      `timeout 10 wget -q -O /dev/null http://${mirror}/ 2>/dev/null && echo mirror-ok; wget -q -O /dev/null http://${mirror}:8080/ 2>/dev/null || echo other-port-blocked`,
    ]);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout).toBe('mirror-ok\nother-port-blocked\n');
    expect(next.stderr).toContain(`${mirror}:8080`);
  });

  it('refuses malformed rules and contradictions before starting anything', async () => {
    const bad = [
      'github.com',
      'github.com:0',
      'github.com:70000',
      'a.*.example.com:443',
      '2001:db8::1:443',
      ':443',
      'github.com :443',
      'localhost:80',
      'GETT github.com/x',
      'GET *:443/*',
      'GET github.com/a?b=1',
    ];
    for (const rule of bad) {
      const r = await box.mino([
        'run',
        '-n',
        'never',
        '-p',
        project,
        '--image',
        TEST_IMAGE,
        '--network-allow',
        rule,
        '--',
        'true',
      ]);
      expect(r.exitCode, `${rule}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`Invalid network rule '${rule}'`);
    }
    const conflicts = [
      [
        ['--network', 'none', '--network-allow', 'a.example:443'],
        '--network none cannot be combined with --network-allow',
      ],
      [['--network', 'host', '--network-preset', 'dev'], '--network host cannot be combined with --network-preset'],
      [['--network', 'learn', '--network-allow', 'a.example:443'], '--network learn cannot be combined'],
      [['--network-preset', 'everything'], "Unknown network preset 'everything'"],
      [['--save'], '--save only applies to --network learn'],
    ] as const;
    for (const [flags, message] of conflicts) {
      const r = await box.mino(['run', '-n', 'never', '-p', project, '--image', TEST_IMAGE, ...flags, '--', 'true']);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(podmanAs(as, ['container', 'exists', 'mino-never']).status).toBe(1);
    expect(egressProxyPids(stateKey, 'never')).toEqual([]);
    const sessions = join(box.env.XDG_STATE_HOME as string, 'mino', 'sessions');
    expect(existsSync(sessions) ? readdirSync(sessions).filter((f) => f.startsWith('never')) : []).toEqual([]);
  });
});

describe('egress: where it is refused or shown', () => {
  const xdg = (): NodeJS.ProcessEnv => {
    const x = isolatedXdg('self');
    return { XDG_CONFIG_HOME: x.XDG_CONFIG_HOME, XDG_STATE_HOME: x.XDG_STATE_HOME, XDG_DATA_HOME: x.XDG_DATA_HOME };
  };

  it('refuses allowlists on OrbStack (podman in a VM) instead of running unrestricted', async () => {
    const r = await runMino(['run', '--network-allow', 'a.example:443', '--', 'true'], {
      env: { ...xdg(), MINO_RUNTIME: 'orbstack' },
      cwd: '/tmp',
    });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('OrbStack is not supported yet');
  });

  it('--dry-run shows the policy before the podman command', async () => {
    const r = await runMino(
      ['run', '--dry-run', '--image', TEST_IMAGE, '--network-allow', 'b.example:443,[2001:db8::1]:22', '--', 'true'],
      { cwd: '/tmp' },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^# network: allowlist through mino's egress proxy/);
    expect(lines[1]).toBe('# allow: b.example:443 [2001:db8::1]:22');
    // The protected paths come between the policy and the podman command.
    const command = lines.findIndex((l) => l.startsWith('podman '));
    expect(lines[2]).toMatch(/^# protected: /);
    expect(lines.slice(2, command).every((l) => /^# (not )?protected/.test(l))).toBe(true);
    expect(lines[command]).toMatch(
      /^podman --hooks-dir .* run .* --network none .* -e HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128 /,
    );
    const l7 = await runMino(
      ['run', '--dry-run', '--image', TEST_IMAGE, '--network-preset', 'github-readonly', '--', 'true'],
      { cwd: '/tmp' },
    );
    expect(l7.exitCode, l7.stderr).toBe(0);
    expect(l7.stdout).toContain('# allow: (nothing)\n# https rules (TLS terminated by the proxy');
    expect(l7.stdout).toContain('#   allow GET,HEAD api.github.com/*\n#   allow GIT-FETCH github.com/*');
    // The default: contained, the agent preset.
    const contained = await runMino(['run', '--dry-run', '--image', TEST_IMAGE, '--', 'true'], { cwd: '/tmp' });
    expect(contained.stdout).toMatch(/^# allow: api\.anthropic\.com:443 .*claude\.ai:443/m);
    expect(contained.stdout).toContain('# presets: agent');
  });

  it.skipIf(!IS_ROOT)('routes ssh through the proxy in mino images (rootful, mino-base)', async () => {
    if (podmanAs('self', ['image', 'exists', BASE]).status !== 0)
      throw new Error("mino-base is not built: run 'bin/mino setup --yes'");
    const box = new Sandbox('self');
    try {
      const project = box.project('ssh');
      const r = await box.mino([
        'run',
        '-p',
        project,
        '--image',
        BASE,
        '--no-home',
        '--network-allow',
        `host.containers.internal:${servers.echo}`,
        '--',
        'bash',
        '-c',
        `timeout 5 ssh -o BatchMode=yes -o StrictHostKeyChecking=no -p ${servers.echo} host.containers.internal true; timeout 5 ssh -o BatchMode=yes -p ${servers.deniedEcho} host.containers.internal true; echo done`,
      ]);
      expect(r.stdout).toContain('done');
      expect(servers.received.some((x) => x.startsWith('echo:SSH-2.0-'))).toBe(true);
      expect(servers.received.some((x) => x.startsWith('denied-echo:'))).toBe(false);
      expect(r.stderr).toContain(
        `mino: ssh to host.containers.internal:${servers.deniedEcho} through the egress proxy: HTTP/1.1 403 Forbidden`,
      );
    } finally {
      box.cleanup();
    }
  });
});
