import { describe, expect, it } from 'vitest';
import {
  L7RuleError,
  formatAnyRules,
  formatL7Rule,
  gitOperation,
  isL7RuleText,
  isValidAnyRule,
  matchablePath,
  parseAnyRules,
  parseL7Rule,
  pathMatches,
  splitRuleValues,
} from '../../../src/network/l7-rule.js';
import { formatRule } from '../../../src/network/rule.js';
import { minoErrorOf } from '../../helpers/thrown.js';

describe('L7 rules: METHODS HOST[:PORT]/PATH', () => {
  it('parses methods, host, port (443 when left out) and path', () => {
    const r = parseL7Rule('get,HEAD Api.GitHub.com/repos/OWNER/*');
    expect(r).toMatchObject({ action: 'allow', methods: ['GET', 'HEAD'], path: '/repos/OWNER/*' });
    expect(r.host).toEqual({ kind: 'name', host: 'api.github.com', port: 443 });
    expect(formatL7Rule(r)).toBe('GET,HEAD api.github.com/repos/OWNER/*');
    expect(formatL7Rule(parseL7Rule('* host.containers.internal:8443/**', 'deny'))).toBe(
      '* host.containers.internal:8443/*',
    );
    expect(parseL7Rule('GIT-FETCH *.example.com/a/*').host.kind).toBe('wildcard');
    expect(formatL7Rule(parseL7Rule('POST [2001:db8::1]:8443/x'))).toBe('POST [2001:db8::1]:8443/x');
    expect(formatL7Rule(parseL7Rule('POST [2001:db8::1]/x'))).toBe('POST [2001:db8::1]/x');
  });

  it.each([
    ['GETT api.github.com/*', /'GETT' is not a method/],
    ['GET, api.github.com/*', /one space|empty method/],
    ['GET,* api.github.com/*', /stands alone/],
    ['api.github.com/*', /no methods/],
    ['GET api.github.com', /no path/],
    ['GET api.github.com/a?b=1', /no query/],
    ['GET api.github.com/a b', /one space/],
    ['GET api.github.com/a/../b', /'\.\.' segment/],
    ['GET api.github.com/a%zz', /two hex digits/],
    ['GET api.github.com/a"b', /characters a URL path cannot/],
    ['GET *:443/*', /every host/],
    ['GET */x', /every host/],
    ['GET https://api.github.com/x', /without a scheme/],
    ['GET api.github.com:0/x', /out of range/],
    ['GET localhost/x', /loopback/],
    ['GET a\u0007b.com/x', /control character/],
  ])('refuses %s with one clear error (exit 2)', (text, why) => {
    const err = minoErrorOf(() => parseL7Rule(text));
    expect(err).toBeInstanceOf(L7RuleError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/^Invalid network rule '/);
    expect(err.message).toMatch(why);
    expect(err.hint).toMatch(/METHODS HOST\[:PORT\]\/PATH/);
  });

  it('tells the two kinds apart and keeps a method list with its rule when splitting on commas', () => {
    expect(isL7RuleText('github.com:443')).toBe(false);
    expect(isL7RuleText('[::2]:443')).toBe(false);
    expect(isL7RuleText('GET github.com/x')).toBe(true);
    expect(isL7RuleText('github.com/x')).toBe(true);
    expect(splitRuleValues(['GET,HEAD a.test/x/*,b.test:22', 'POST,PUT c.test/y'])).toEqual([
      'GET,HEAD a.test/x/*',
      'b.test:22',
      'POST,PUT c.test/y',
    ]);
    const parsed = parseAnyRules(['GET,HEAD a.test/x/*,b.test:22,GET,HEAD a.test/x/*', 'b.test:22'], 'deny');
    expect(parsed.hosts.map(formatRule)).toEqual(['b.test:22']);
    expect(parsed.l7.map((r) => `${r.action} ${formatL7Rule(r)}`)).toEqual(['deny GET,HEAD a.test/x/*']);
    expect(isValidAnyRule('GIT-FETCH github.com/*')).toBe(true);
    expect(isValidAnyRule('GET github.com')).toBe(false);
    expect(isValidAnyRule('a.test:1')).toBe(true);
  });

  it('matches paths with * across segments, and only whole paths', () => {
    expect(pathMatches('/repos/o/*', '/repos/o/r/issues')).toBe(true);
    expect(pathMatches('/repos/o/*', '/repos/o')).toBe(false);
    expect(pathMatches('/repos/o/*', '/repos/other/r')).toBe(false);
    expect(pathMatches('/a/*/c', '/a/b/x/c')).toBe(true);
    expect(pathMatches('/a.b', '/aXb')).toBe(false);
    expect(pathMatches('/*', '/')).toBe(true);
  });

  it('normalizes request targets, and refuses those a server could read differently', () => {
    expect(matchablePath('/repos/o/../p/x?y=1')).toEqual({ path: '/repos/p/x', query: 'y=1' });
    expect(matchablePath('/repos/o/%2e%2e/p')).toEqual({ path: '/repos/p', query: '' });
    expect(matchablePath('/repos/o%2F..%2Fp')).toBeUndefined();
    expect(matchablePath('/a\\b')).toBeUndefined();
    expect(matchablePath('//evil.test/x')).toBeUndefined();
    expect(matchablePath('http://evil.test/x')).toBeUndefined();
    expect(matchablePath('*')).toBeUndefined();
  });

  it('knows git smart-HTTP fetch and push requests', () => {
    expect(gitOperation('/o/r.git/info/refs', 'service=git-upload-pack')).toBe('GIT-FETCH');
    expect(gitOperation('/o/r/info/refs', 'service=git-receive-pack')).toBe('GIT-PUSH');
    expect(gitOperation('/o/r.git/git-upload-pack', '')).toBe('GIT-FETCH');
    expect(gitOperation('/o/r.git/git-receive-pack', '')).toBe('GIT-PUSH');
    expect(gitOperation('/o/r.git/info/refs', '')).toBeUndefined();
    expect(gitOperation('/o/r', '')).toBeUndefined();
  });
});

describe('formatAnyRules', () => {
  it('gives back rules of both kinds, deny rules included', () => {
    expect(formatAnyRules(parseAnyRules(['a.test:1,GET a.test/x'], 'deny'))).toEqual(['a.test:1', 'GET a.test/x']);
  });
});
