import { describe, expect, it } from 'vitest';
import { remoteArgs } from '../../../../src/runtime/podman/podman-cli.js';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tunnelDir } from '../../../../src/engine/engine-runtime.js';
import { PERSIST_SECONDS, socketAnswers, sshTargetOf, tunnelArgv } from '../../../../src/runtime/podman/ssh-tunnel.js';

describe('reaching a remote engine', () => {
  it('passes podman the URL and key as separate arguments', () => {
    expect(remoteArgs({ url: 'ssh://dev@h:22/p.sock', identity: '/k/id' })).toEqual([
      '--remote',
      '--url',
      'ssh://dev@h:22/p.sock',
      '--identity',
      '/k/id',
    ]);
    expect(remoteArgs(undefined)).toEqual([]);
    expect(() => remoteArgs({ url: 'ssh://dev@h/p.sock;rm' })).toThrow('invalid engine URL');
  });

  it("tunnels one ssh connection to the podman socket, the host key checked against mino's file", () => {
    const target = sshTargetOf('ssh://dev@[::1]:2222/run/p.sock', '/k/id', '/m/known_hosts')!;
    expect(target).toEqual({
      user: 'dev',
      host: '::1',
      port: 2222,
      socket: '/run/p.sock',
      identity: '/k/id',
      knownHosts: '/m/known_hosts',
    });
    const argv = tunnelArgv(target, '/tmp/x/podman.sock');
    expect(argv.slice(-4)).toEqual(['-L', '/tmp/x/podman.sock:/run/p.sock', '--', 'dev@::1']);
    expect(argv).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'UserKnownHostsFile=/m/known_hosts',
        'StrictHostKeyChecking=accept-new',
        '-i',
        '/k/id',
      ]),
    );
    expect(sshTargetOf('unix:///run/p.sock')).toBeUndefined();
  });

  it('a shared tunnel is an ssh master that goes to the background and outlives the process a while', () => {
    const target = sshTargetOf('ssh://dev@h:22/run/p.sock')!;
    const argv = tunnelArgv(target, '/d/podman.sock', '/d/control');
    expect(argv.slice(0, 10)).toEqual([
      'ssh',
      '-N',
      '-T',
      '-f',
      '-M',
      '-o',
      'ControlPath=/d/control',
      '-o',
      `ControlPersist=${PERSIST_SECONDS}`,
      '-o',
    ]);
    expect(tunnelArgv(target, '/d/podman.sock')).not.toContain('-M');
  });

  it('names the shared tunnel by everything that makes the connection, and never past a socket path limit', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1789', XDG_DATA_HOME: '/home/u/.local/share' };
    const a = tunnelDir('ssh://dev@h:22/p.sock', '/k/a', '/m/ssh', env)!;
    expect(a).toMatch(/^\/run\/user\/1789\/mino\/engines\/[0-9a-f]{16}$/);
    expect(tunnelDir('ssh://dev@h:22/p.sock', '/k/a', '/m/ssh', env)).toBe(a);
    expect(tunnelDir('ssh://dev@h:22/p.sock', '/k/b', '/m/ssh', env)).not.toBe(a);
    expect(tunnelDir('ssh://dev@h:2222/p.sock', '/k/a', '/m/ssh', env)).not.toBe(a);
    expect(tunnelDir('ssh://dev@h:22/p.sock', '/k/a', '/n/ssh', env)).not.toBe(a);
    // No runtime directory: mino's data directory.
    expect(tunnelDir('ssh://dev@h:22/p.sock', undefined, '/m/ssh', { XDG_DATA_HOME: '/d' })).toMatch(
      /^\/d\/mino\/engines\/run\/[0-9a-f]{16}$/,
    );
    // A path too long for a unix socket: no shared tunnel (one per process instead).
    expect(tunnelDir('ssh://dev@h:22/p.sock', undefined, '/m/ssh', { XDG_RUNTIME_DIR: `/${'x'.repeat(90)}` })).toBe(
      undefined,
    );
  });

  it('tells a live socket from a stale file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-sock-'));
    try {
      const path = join(dir, 's.sock');
      expect(await socketAnswers(path)).toBe(false);
      const server = createServer((c) => c.end()).listen(path);
      await new Promise((r) => server.once('listening', r));
      expect(await socketAnswers(path)).toBe(true);
      await new Promise((r) => server.close(r));
      writeFileSync(join(dir, 'plain'), 'not a socket');
      expect(await socketAnswers(join(dir, 'plain'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
