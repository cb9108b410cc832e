import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Human sizes for volume limits: binary units (1 KB = 1024 B, up to TB; `KiB`…`TiB` too),
 * case-insensitive, decimals allowed (`1.5GB`), a bare number is bytes. An empty or malformed
 * size is an error that says what is wrong, never 0 or a silently truncated value.
 */

const UNITS: Readonly<Record<string, number>> = Object.freeze({
  '': 1,
  B: 1,
  K: 1024,
  KB: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
});

const HINT = 'Write a number and a unit: B, KB, MB, GB or TB (1 GB = 1024 MB), e.g. 500MB, 2GB, 1.5TB';

/**
 * Parses a size such as `2GB`, `512mb`, `1.5 TB` or `1024` into bytes (rounded down). Throws a
 * UsageError naming the value and the problem: empty, not a number, negative, unknown unit,
 * or larger than 2^53 bytes.
 */
export function parseSize(text: string): number {
  const value = text.trim();
  const fail = (why: string): never => {
    throw new UsageError(`Invalid size '${printable(text)}': ${why}`, HINT);
  };
  if (value.length === 0) fail('it is empty');
  if (value.startsWith('-')) fail('a size cannot be negative');
  const m = /^(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)$/.exec(value);
  if (!m) fail('expected a number followed by a unit');
  const [, num = '', unit = ''] = m as RegExpExecArray;
  const multiplier = UNITS[unit.toUpperCase()];
  if (multiplier === undefined) fail(`unknown unit '${printable(unit)}'`);
  const bytes = Math.floor(Number(num) * (multiplier as number));
  if (!Number.isSafeInteger(bytes)) fail('too large');
  return bytes;
}

/**
 * Formats bytes: `512B`, `1.0KB`, `2.5GB`, `1.0TB` (binary units, one decimal).
 */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) return `${(bytes / size).toFixed(1)}${unit}`;
  }
  return `${Math.max(0, Math.floor(bytes))}B`;
}
