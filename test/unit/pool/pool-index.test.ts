import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLAIM_MARGIN_SECONDS,
  addWarmEntry,
  claimWarmEntry,
  listPoolKeys,
  readPool,
  removePool,
  validatePoolKey,
  warmEntries,
  writePool,
} from '../../../src/pool/pool-index.js';
import { poolSettingsOf } from '../../../src/pool/pool-settings.js';

const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mino-pool-'));
  dirs.push(d);
  return join(d, 'state');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = 'a'.repeat(24);
const entry = (n: string, expires: number) => ({
  name: `mino.warm.aaaaaaaaaaaa.${n}`,
  id: n.repeat(8),
  image_id: 'i',
  expires_at: expires,
  created_at: 0,
});

describe('pool index', () => {
  it('lists warm entries oldest first and sweeps the expired ones', () => {
    const dir = stateDir();
    writePool(dir, {
      key: KEY,
      project_dir: '/p',
      image: 'img',
      target: 3,
      spec: { image: 'img', command: [] },
      group_add: [],
      updated_at: '',
    });
    addWarmEntry(dir, KEY, entry('0000000b', 2000));
    addWarmEntry(dir, KEY, entry('0000000a', 1500));
    addWarmEntry(dir, KEY, entry('0000000c', 1000 + CLAIM_MARGIN_SECONDS));
    expect(warmEntries(dir, KEY, 1000).map((e) => e.expires_at)).toEqual([1500, 2000]);
    // the expired one is gone from the index for good
    expect(warmEntries(dir, KEY, 0).length).toBe(2);
    expect(listPoolKeys(dir)).toEqual([KEY]);
    expect(readPool(dir, KEY)).toMatchObject({ target: 3 });
    removePool(dir, KEY);
    expect(listPoolKeys(dir)).toEqual([]);
  });

  it('hands an entry to exactly one claimer', () => {
    const dir = stateDir();
    addWarmEntry(dir, KEY, entry('0000000a', 5000));
    expect(claimWarmEntry(dir, KEY, 'mino.warm.aaaaaaaaaaaa.0000000a')).toBe(true);
    expect(claimWarmEntry(dir, KEY, 'mino.warm.aaaaaaaaaaaa.0000000a')).toBe(false);
    expect(warmEntries(dir, KEY, 0)).toEqual([]);
  });

  it('refuses keys and names that are not its own (they become paths)', () => {
    expect(() => validatePoolKey('../../etc')).toThrow(/Invalid pool key/);
    expect(() => addWarmEntry(stateDir(), KEY, { ...entry('0000000a', 1), name: '../x' })).toThrow(
      /Invalid warm container name/,
    );
  });
});

describe('pool settings', () => {
  it('takes the [pool] table and refuses min_warm above max_warm (exit 2)', () => {
    expect(poolSettingsOf({ enabled: true, min_warm: 2, max_warm: 10, warm_ttl: 600 })).toEqual({
      enabled: true,
      minWarm: 2,
      maxWarm: 10,
      warmTtlSeconds: 600,
    });
    let err: (Error & { exitCode?: number; hint?: string }) | undefined;
    try {
      poolSettingsOf({ enabled: true, min_warm: 5, max_warm: 3, warm_ttl: 600 });
    } catch (e) {
      err = e as Error & { exitCode?: number; hint?: string };
    }
    expect(err?.message).toMatch(/min_warm \(5\) is above max_warm \(3\)/);
    expect(err?.exitCode).toBe(2);
    expect(err?.hint).toMatch(/pool\.max_warm/);
  });
});
