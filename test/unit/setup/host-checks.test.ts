import { describe, expect, it } from 'vitest';
import { nextFreeSubIdStart } from '../../../src/setup/host-checks.js';

describe('nextFreeSubIdStart', () => {
  it('starts at 100000 when nobody has a range', () => {
    expect(nextFreeSubIdStart('')).toBe(100000);
  });

  it('starts right after the highest range already given out', () => {
    expect(nextFreeSubIdStart('minodev:100000:65536\nmino-test:165536:65536\n')).toBe(231072);
  });

  it('does not depend on the order of the lines', () => {
    expect(nextFreeSubIdStart('b:300000:65536\na:100000:65536\n')).toBe(365536);
  });

  it('never starts below 100000 even when lower ranges exist', () => {
    expect(nextFreeSubIdStart('old:1000:500\n')).toBe(100000);
  });

  it('ignores comments, blank lines and malformed entries', () => {
    expect(nextFreeSubIdStart('# comment\n\nbad:abc:10\nhalf:200000\nok:120000:1000\n')).toBe(121000);
  });

  it('counts ranges written with a numeric owner', () => {
    expect(nextFreeSubIdStart('1000:500000:65536\n')).toBe(565536);
  });
});
