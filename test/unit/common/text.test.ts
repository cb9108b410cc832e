import { describe, expect, it } from 'vitest';
import { formatBytes, lastLines } from '../../../src/common/text.js';

describe('lastLines', () => {
  it('returns the last n non-empty lines without trailing spaces', () => {
    expect(lastLines('a  \n\nb\t\nc\n\n', 2)).toBe('b\nc');
    expect(lastLines('a\nb', 5)).toBe('a\nb');
    expect(lastLines('\n \n', 3)).toBe('');
  });
});

describe('formatBytes', () => {
  it('shows MB below a gigabyte and GB with two decimals above', () => {
    expect(formatBytes(2_500_000)).toBe('3 MB');
    expect(formatBytes(1_080_000_000)).toBe('1.08 GB');
  });
});
