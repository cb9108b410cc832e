import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bumpCounters, readCounters, ZERO_COUNTERS } from '../../../src/session/sandbox-counters.js';

const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mino-counters-'));
  dirs.push(d);
  return join(d, 'state');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sandbox counters', () => {
  it('start at zero and add deltas, creating the state directory', () => {
    const dir = stateDir();
    expect(readCounters(dir)).toEqual(ZERO_COUNTERS);
    bumpCounters(dir, { sandboxes_created: 1, creation_ms_total: 420 });
    expect(bumpCounters(dir, { sandboxes_created: 1, creation_ms_total: 80, pool_hits: 1 })).toEqual({
      ...ZERO_COUNTERS,
      sandboxes_created: 2,
      creation_ms_total: 500,
      pool_hits: 1,
    });
    expect(readCounters(dir).creation_ms_total).toBe(500);
  });

  it('ignore negative, non-finite and unknown deltas', () => {
    const dir = stateDir();
    bumpCounters(dir, { timeout_destroys: 2 });
    bumpCounters(dir, { timeout_destroys: -5, pool_misses: Number.NaN, ...({ bogus: 3 } as object) });
    expect(readCounters(dir)).toEqual({ ...ZERO_COUNTERS, timeout_destroys: 2 });
  });

  it('read a damaged file as zero and repair it on the next bump', () => {
    const dir = stateDir();
    bumpCounters(dir, { pool_hits: 1 });
    writeFileSync(join(dir, 'sandbox-counters.json'), '{"pool_hits": 3, "pool_mi');
    expect(readCounters(dir)).toEqual(ZERO_COUNTERS);
    expect(bumpCounters(dir, { pool_hits: 1 }).pool_hits).toBe(1);
  });
});
