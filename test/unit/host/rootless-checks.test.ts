import { describe, expect, it } from 'vitest';
import { hasSubIdRange } from '../../../src/host/rootless-checks.js';

const SUBUID = 'minodev:100000:65536\nmino-test:165536:65536\n';

describe('hasSubIdRange', () => {
  it('finds a range listed under the user name', () => {
    expect(hasSubIdRange(SUBUID, 'mino-test', 1002)).toBe(true);
    expect(hasSubIdRange(SUBUID, 'minodev', 1001)).toBe(true);
  });

  it('finds a range listed under the numeric uid', () => {
    expect(hasSubIdRange('1000:100000:65536\n', 'alice', 1000)).toBe(true);
  });

  it('does not match another user whose name shares a prefix', () => {
    expect(hasSubIdRange(SUBUID, 'mino', 1000)).toBe(false);
    expect(hasSubIdRange('10000:100000:65536\n', 'alice', 1000)).toBe(false);
  });

  it('does not count a zero-length or malformed range', () => {
    expect(hasSubIdRange('alice:100000:0\n', 'alice', 1000)).toBe(false);
    expect(hasSubIdRange('alice:100000\n', 'alice', 1000)).toBe(false);
    expect(hasSubIdRange('alice:100000:lots\n', 'alice', 1000)).toBe(false);
  });

  it('tolerates surrounding whitespace and blank lines', () => {
    expect(hasSubIdRange('\n  alice:100000:65536  \n\n', 'alice', 1000)).toBe(true);
  });

  it('finds nothing in an empty file', () => {
    expect(hasSubIdRange('', 'alice', 1000)).toBe(false);
  });
});
