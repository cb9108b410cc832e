import { describe, expect, it } from 'vitest';
import { simpleTarget } from '../../../../src/network/proxy/absolute-target.js';

/** What the URL parser makes of a target: the path sent upstream. */
function urlPath(target: string): string {
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

describe('simple absolute-form targets', () => {
  it('splits plain targets exactly as the URL parser does', () => {
    for (const target of [
      'http://example.com/',
      'http://example.com',
      'http://example.com?x=1',
      'http://host.containers.internal:8080/r1',
      'http://example.com//double/slash',
      'http://example.com/a/b?c=d&e=f/g?h',
      'http://example.com/%41%zz/x%2ey',
      'http://127.0.0.1:80/a;b=c@d:e',
      'http://[::1]:8080/v6',
      'http://EXAMPLE.com/Case',
      'http://example.com/~user/(x)*+,!$',
    ]) {
      const simple = simpleTarget(target);
      expect(simple, target).toBeDefined();
      expect(simple!.path, target).toBe(urlPath(target));
    }
  });

  it('leaves to the URL parser what it would rewrite or read otherwise', () => {
    for (const target of [
      'HTTP://example.com/',
      'https://example.com/',
      'http://user:pass@example.com/',
      'http://example.com\\@evil.example/',
      'http://example.com/a/../b',
      'http://example.com/a/./b',
      'http://example.com/%2e%2E/b',
      'http://example.com/.hidden',
      'http://example.com/a b',
      'http://example.com/a#frag',
      'http://example.com/a\\b',
      "http://example.com/?q='x'",
      "http://example.com/it's",
      'http://example.com/{x}',
      'http://exa%6dple.com/',
      'http://0x7f.1/',
      'http:///path',
    ]) {
      const simple = simpleTarget(target);
      if (target === 'http://0x7f.1/') {
        // host characters only: taken, and its authority's destination is the URL parser's
        expect(simple?.authority).toBe('0x7f.1');
        continue;
      }
      expect(simple, target).toBeUndefined();
    }
  });
});
