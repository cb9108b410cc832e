import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore } from '../../../src/cache/cache-store.js';

const VOL = 'mino-cache-npm-a1b2c3d4e5f6';
const T0 = new Date('2026-03-01T10:00:00Z');
const T1 = new Date('2026-03-02T10:00:00Z');

describe('cache sidecar store', () => {
  let state: string;
  let store: CacheStore;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-cache-store-'));
    store = new CacheStore(state);
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('keeps one 0600 file per cache under <state>/cache, named like mino 1.6', () => {
    store.use(VOL, T0);
    expect(readdirSync(join(state, 'cache')).filter((n) => !n.startsWith('.'))).toEqual([`${VOL}.json`]);
    expect(statSync(join(state, 'cache', `${VOL}.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'cache')).mode & 0o777).toBe(0o700);
  });

  it('walks miss → building → complete and records each use', () => {
    expect(store.get(VOL)).toBeUndefined();
    expect(store.use(VOL, T0)).toMatchObject({ state: 'building', last_used: T0.toISOString() });
    expect(store.use(VOL, T1)).toMatchObject({
      state: 'building',
      created_at: T0.toISOString(),
      last_used: T1.toISOString(),
    });
    expect(store.finalize(VOL, 2, T1)?.state).toBe('building');
    expect(store.finalize(VOL, 0, T1)?.state).toBe('complete');
    expect(store.use(VOL, new Date('2026-03-05T00:00:00Z'))).toMatchObject({
      state: 'complete',
      last_used: '2026-03-05T00:00:00.000Z',
    });
  });

  it('lets a --cache-fresh volume take over the key, and forgets only the volume it names', () => {
    store.use(VOL, T0);
    store.finalize(VOL, 0, T0);
    const fresh = `${VOL}-0a0b0c`;
    expect(store.use(fresh, T1)).toMatchObject({ volume_name: fresh, state: 'building' });
    store.forget(VOL);
    expect(store.get(VOL)?.volume_name).toBe(fresh);
    store.forget(fresh);
    expect(store.get(VOL)).toBeUndefined();
  });

  it('lists sidecars and reports unreadable ones instead of failing', () => {
    store.use(VOL, T0);
    writeFileSync(join(state, 'cache', 'mino-cache-go-ffffffffffff.json'), 'not json');
    const { sidecars, warnings } = store.list();
    expect(sidecars.map((s) => s.volume_name)).toEqual([VOL]);
    expect(warnings).toHaveLength(1);
    expect(store.get('mino-cache-go-ffffffffffff')).toBeUndefined();
  });

  it('refuses names that are not canonical cache volumes', () => {
    expect(() => store.get('../../etc/passwd')).toThrow(/canonical/);
    expect(() => store.use('mino-home-a1b2c3d4e5f6', T0)).toThrow(/cache volume/);
  });
});
