import { describe, expect, it } from 'vitest';
import { RuleError, formatRule, isValidRule, parseRule, parseRules } from '../../../src/network/rule.js';

describe('network rules', () => {
  it.each([
    ['github.com:443', { kind: 'name', host: 'github.com', port: 443 }],
    ['GitHub.COM.:22', { kind: 'name', host: 'github.com', port: 22 }],
    ['*.example.com:443', { kind: 'wildcard', host: '*.example.com', port: 443 }],
    ['10.0.0.5:22', { kind: 'ipv4', host: '10.0.0.5', port: 22 }],
    ['[2001:DB8:0:0::1]:443', { kind: 'ipv6', host: '2001:db8::1', port: 443 }],
    ['[::ffff:10.1.2.3]:80', { kind: 'ipv4', host: '10.1.2.3', port: 80 }],
    ['host.containers.internal:11434', { kind: 'host-service', host: 'host.containers.internal', port: 11434 }],
    ['a:1', { kind: 'name', host: 'a', port: 1 }],
    ['a:65535', { kind: 'name', host: 'a', port: 65535 }],
    ['_srv.example.com:443', { kind: 'name', host: '_srv.example.com', port: 443 }],
  ])('accepts %s', (text, rule) => {
    expect(parseRule(text)).toEqual(rule);
  });

  it.each([
    ['github.com', /no port/],
    ['github.com:', /no port after the colon/],
    ['github.com:0', /port 0 is out of range/],
    ['github.com:70000', /port 70000 is out of range/],
    ['github.com:65536', /out of range/],
    ['github.com:044', /out of range/],
    ['github.com:https', /not a number/],
    ['a.*.example.com:443', /only allowed as the whole first label/],
    ['foo*.example.com:443', /only allowed as the whole first label/],
    ['*example.com:443', /only allowed as the whole first label/],
    ['*.*.example.com:443', /only allowed as the whole first label/],
    ['*:443', /would allow every host/],
    ['2001:db8::1:443', /IPv6 addresses need brackets/],
    ['::1:22', /IPv6 addresses need brackets|host contains/],
    ['[2001:db8::1]', /no port/],
    ['[not-v6]:443', /not an IPv6 address/],
    ['[]:443', /host is empty/],
    [':443', /host is empty/],
    ['', /empty/],
    ['github.com :443', /space/],
    [' github.com:443', /space/],
    ['github.com:443 ', /space/],
    ['git hub.com:443', /space/],
    ['https://github.com:443', /without a scheme/],
    ['github.com/x:443', /no path/],
    ['a..b:443', /empty label/],
    ['.example.com:443', /empty label/],
    ['-bad.example.com:443', /not a valid host name label/],
    ['1.2.3:80', /looks like an IP address/],
    ['2130706433:80', /looks like an IP address/],
    ['localhost:8080', /host.containers.internal/],
    ['LOCALHOST:8080', /host.containers.internal/],
    ['api.localhost:80', /host.containers.internal/],
    ['127.0.0.1:8080', /host.containers.internal/],
    ['127.1.2.3:8080', /host.containers.internal/],
    ['0.0.0.0:80', /host.containers.internal/],
    ['[::1]:80', /host.containers.internal/],
    ['[::]:80', /host.containers.internal/],
    ['[::ffff:127.0.0.1]:80', /host.containers.internal/],
    ['*.localhost:80', /host.containers.internal/],
  ])('refuses %j, naming the rule', (text, why) => {
    let caught: unknown;
    try {
      parseRule(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RuleError);
    const err = caught as RuleError;
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`Invalid network rule '${text}'`);
    expect(err.message).toMatch(why);
    expect(err.hint).toMatch(/HOST:PORT/);
  });

  it('splits comma lists, drops duplicates and keeps order', () => {
    expect(parseRules(['b.example:443,a.example:22', 'B.example:443']).map(formatRule)).toEqual([
      'b.example:443',
      'a.example:22',
    ]);
  });

  it('refuses the whole list on one bad rule', () => {
    expect(() => parseRules(['a.example:443,b.example'])).toThrow(/'b.example'/);
    expect(() => parseRules(['a.example:443,'])).toThrow(/empty/);
  });

  it('formats IPv6 rules with brackets', () => {
    expect(formatRule(parseRule('[2001:db8::5]:22'))).toBe('[2001:db8::5]:22');
    expect(isValidRule('x.example:1')).toBe(true);
    expect(isValidRule('x.example')).toBe(false);
  });
});
