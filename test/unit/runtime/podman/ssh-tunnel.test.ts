import { describe, expect, it } from 'vitest';
import { remoteArgs } from '../../../../src/runtime/podman/podman-cli.js';
import { sshTargetOf, tunnelArgv } from '../../../../src/runtime/podman/ssh-tunnel.js';

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
});
