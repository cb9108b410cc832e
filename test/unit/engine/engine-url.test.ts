import { describe, expect, it } from 'vitest';
import { describeEngineUrl, parseEngineUrl, podmanUrl } from '../../../src/engine/engine-url.js';
import { validateEngineName } from '../../../src/engine/engine-name.js';
import { minoErrorOf } from '../../helpers/thrown.js';

describe('engine URLs', () => {
  it('takes ssh with and without a port, IPv6, and unix sockets', () => {
    expect(parseEngineUrl('ssh://dev@build.example.com/run/user/1000/podman/podman.sock')).toMatchObject({
      scheme: 'ssh',
      user: 'dev',
      host: 'build.example.com',
      port: undefined,
      socket: '/run/user/1000/podman/podman.sock',
    });
    expect(parseEngineUrl('ssh://dev@10.0.0.5:2222/p.sock')).toMatchObject({ host: '10.0.0.5', port: 2222 });
    expect(parseEngineUrl('ssh://dev@[2001:db8::1]:22/p.sock')).toMatchObject({ host: '[2001:db8::1]', port: 22 });
    expect(parseEngineUrl('unix:///run/podman/podman.sock')).toMatchObject({
      scheme: 'unix',
      socket: '/run/podman/podman.sock',
    });
  });

  it('gives podman the port it needs and people a short name', () => {
    expect(podmanUrl(parseEngineUrl('ssh://dev@host/p.sock'))).toBe('ssh://dev@host:22/p.sock');
    expect(podmanUrl(parseEngineUrl('ssh://dev@host:2200/p.sock'))).toBe('ssh://dev@host:2200/p.sock');
    expect(describeEngineUrl(parseEngineUrl('ssh://dev@host:2200/p.sock'))).toBe('dev@host:2200');
    expect(describeEngineUrl(parseEngineUrl('unix:///x.sock'))).toBe('this machine (/x.sock)');
  });

  it.each([
    ['http://host/p.sock', 'the scheme must be ssh:// or unix://'],
    ['ssh://host/p.sock', 'the user is missing'],
    ['ssh://dev@host', 'the path of the podman socket on the engine is missing'],
    ['ssh://dev@host:99999/p.sock', 'out of range'],
    ['ssh://dev@host:x/p.sock', 'the port must be a number'],
    ['ssh://dev@ho st/p.sock', 'spaces or control characters'],
    ['ssh://-oProxyCommand=x@host/p.sock', 'not a valid user name'],
    ['ssh://dev@-oProxyCommand/p.sock', 'not a host name'],
    ['ssh://dev@host/../etc/p.sock', '. or .. components'],
    ['unix://relative.sock', 'absolute path'],
    ['unix:///x;rm.sock', 'absolute path'],
  ])('refuses %s (exit 2)', (url, why) => {
    const err = minoErrorOf(() => parseEngineUrl(url));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(why);
    expect(err.hint).toContain('ssh://user@host');
  });

  it('checks engine names', () => {
    expect(validateEngineName('gpu-box')).toBe('gpu-box');
    for (const bad of ['', 'GPU', '-x', 'a'.repeat(33), 'a b', '../x']) {
      expect(minoErrorOf(() => validateEngineName(bad)).exitCode).toBe(2);
    }
  });
});
