import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { formatSize, parseSize } from '../../../src/volume/parse-size.js';
import { thrown } from '../../helpers/thrown.js';

const K = 1024;

describe('parseSize', () => {
  it.each([
    ['1024', 1024],
    ['0', 0],
    ['10B', 10],
    ['1KB', K],
    ['1K', K],
    ['1KiB', K],
    ['1MB', K ** 2],
    ['1M', K ** 2],
    ['1GB', K ** 3],
    ['1G', K ** 3],
    ['1TB', K ** 4],
    ['2T', 2 * K ** 4],
    ['2.5GB', Math.floor(2.5 * K ** 3)],
    ['.5MB', K ** 2 / 2],
    ['512mb', 512 * K ** 2],
    ['1.5 tb', Math.floor(1.5 * K ** 4)],
    ['  2GB  ', 2 * K ** 3],
    ['1.7B', 1],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['abc', 'expected a number followed by a unit'],
    ['GB', 'expected a number followed by a unit'],
    ['1XB', "unknown unit 'XB'"],
    ['1PB', "unknown unit 'PB'"],
    ['-1GB', 'a size cannot be negative'],
    ['1,5GB', 'expected a number followed by a unit'],
    ['1e3', 'expected a number followed by a unit'],
    ['1.2.3GB', 'expected a number followed by a unit'],
    ['99999999TB', 'too large'],
  ])('rejects %j: %s', (text, why) => {
    const err = thrown(() => parseSize(text));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`Invalid size '${text}': ${why}`);
    expect(err.hint).toContain('B, KB, MB, GB or TB');
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0B'],
    [512, '512B'],
    [K, '1.0KB'],
    [1536, '1.5KB'],
    [K ** 2, '1.0MB'],
    [K ** 3, '1.0GB'],
    [2 * K ** 3, '2.0GB'],
    [K ** 4, '1.0TB'],
  ])('%d is %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('round-trips through parseSize for whole units', () => {
    for (const text of ['1.0KB', '3.0MB', '2.0GB', '5.0TB']) expect(formatSize(parseSize(text))).toBe(text);
  });
});
