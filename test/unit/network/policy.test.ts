import { describe, expect, it } from 'vitest';
import { destinationOf, parseAuthority } from '../../../src/network/destination.js';
import { decide, policyText, withAllowed, withDenied, type EgressPolicy } from '../../../src/network/policy.js';
import { parseRules } from '../../../src/network/rule.js';

const policy = (allow: string[], deny: string[] = [], mode: EgressPolicy['mode'] = 'allowlist'): EgressPolicy => ({
  mode,
  allow: parseRules(allow),
  deny: parseRules(deny),
});
const dest = (host: string, port: number) => destinationOf(host, port)!;

describe('egress policy', () => {
  const p = policy([
    'github.com:443',
    '*.example.com:443',
    '10.0.0.5:22',
    '[2001:db8::1]:443',
    'host.containers.internal:11434',
  ]);

  it('allows exactly the named host and port', () => {
    expect(decide(p, dest('github.com', 443))).toMatchObject({
      allowed: true,
      rule: 'github.com:443',
      hostService: false,
    });
    expect(decide(p, dest('GITHUB.com.', 443)).allowed).toBe(true);
    expect(decide(p, dest('github.com', 22))).toMatchObject({ allowed: false, reason: 'no-rule' });
    expect(decide(p, dest('api.github.com', 443)).allowed).toBe(false);
  });

  it('matches wildcards below the domain at any depth, never the apex', () => {
    expect(decide(p, dest('a.example.com', 443)).allowed).toBe(true);
    expect(decide(p, dest('a.b.example.com', 443)).allowed).toBe(true);
    expect(decide(p, dest('example.com', 443)).allowed).toBe(false);
    expect(decide(p, dest('badexample.com', 443)).allowed).toBe(false);
    expect(decide(p, dest('a.example.com', 80)).allowed).toBe(false);
  });

  it('matches addresses literally, IPv4-mapped and IPv6 in canonical form', () => {
    expect(decide(p, dest('10.0.0.5', 22))).toMatchObject({ allowed: true, literal: true });
    expect(decide(p, dest('::ffff:10.0.0.5', 22)).allowed).toBe(true);
    expect(decide(p, dest('[2001:0db8::0001]', 443)).allowed).toBe(true);
    expect(decide(p, dest('10.0.0.6', 22)).allowed).toBe(false);
  });

  it('reaches host services only through their own rule', () => {
    expect(decide(p, dest('host.containers.internal', 11434))).toMatchObject({ allowed: true, hostService: true });
    expect(decide(p, dest('host.containers.internal', 5432))).toMatchObject({ allowed: false, reason: 'host-service' });
    const wide = policy(['*.internal:11434', '*.containers.internal:11434']);
    expect(decide(wide, dest('host.containers.internal', 11434)).allowed).toBe(false);
    expect(decide(policy([], [], 'learn'), dest('host.containers.internal', 11434)).allowed).toBe(false);
  });

  it('learn allows everything else; deny rules win over allow and learn', () => {
    expect(decide(policy([], [], 'learn'), dest('anything.test', 1234))).toMatchObject({
      allowed: true,
      rule: 'learn',
    });
    expect(
      decide(policy(['*.example.com:443'], ['evil.example.com:443']), dest('evil.example.com', 443)),
    ).toMatchObject({ allowed: false, reason: 'deny-rule' });
    expect(decide(policy([], ['x.test:1'], 'learn'), dest('x.test', 1)).allowed).toBe(false);
  });

  it('allow and deny move rules between the lists', () => {
    const a = withAllowed(policy(['a.test:1'], ['b.test:2']), parseRules(['b.test:2', 'c.test:3']));
    expect(policyText(a)).toEqual({ mode: 'allowlist', allow: ['a.test:1', 'b.test:2', 'c.test:3'], deny: [] });
    const d = withDenied(a, parseRules(['a.test:1']));
    expect(policyText(d)).toEqual({ mode: 'allowlist', allow: ['b.test:2', 'c.test:3'], deny: ['a.test:1'] });
  });
});

describe('destinations from clients', () => {
  it('parses CONNECT authorities', () => {
    expect(parseAuthority('github.com:443')).toEqual({ kind: 'name', host: 'github.com', port: 443 });
    expect(parseAuthority('[2001:db8::1]:22')).toEqual({ kind: 'ipv6', host: '2001:db8::1', port: 22 });
    expect(parseAuthority('[::ffff:7f00:1]:22')).toEqual({ kind: 'ipv4', host: '127.0.0.1', port: 22 });
    for (const bad of [
      'github.com',
      'github.com:0',
      'github.com:99999',
      'a b:1',
      'a%20b:1',
      '2001:db8::1:22',
      'x.test:1:2',
      '[fe80::1%eth0]:22',
      '1.2.3:80',
    ]) {
      expect(parseAuthority(bad), bad).toBeUndefined();
    }
  });
});
