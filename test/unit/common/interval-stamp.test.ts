import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stampDue } from '../../../src/common/interval-stamp.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-stamp-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('stampDue', () => {
  it("is due when never done, then not within the interval, then due again, on the caller's clock", () => {
    const stamp = join(dir, 'sub', 'last-chore');
    const now = Date.now() - 60_000; // a clock far from the file system's own
    expect(stampDue(stamp, 1000, now)).toBe(true);
    expect(stampDue(stamp, 1000, now + 999)).toBe(false);
    expect(stampDue(stamp, 1000, now + 1001)).toBe(true);
    expect(stampDue(stamp, 1000, now + 1500)).toBe(false);
  });

  it('is not due when the stamp cannot be written', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(stampDue(join(file, 'stamp'), 1000)).toBe(false);
  });
});
