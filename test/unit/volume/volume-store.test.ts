import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newVolumeMetadata } from '../../../src/volume/volume-metadata.js';
import { VolumeStore } from '../../../src/volume/volume-store.js';

const T0 = new Date('2026-01-02T03:04:05.000Z');

describe('VolumeStore', () => {
  let state: string;
  let store: VolumeStore;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-volstore-'));
    store = new VolumeStore(state);
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('keeps one 0600 file per slug under <state>/volumes (0700)', () => {
    store.put(newVolumeMetadata('data', 5, T0));
    expect(store.get('data')).toEqual(newVolumeMetadata('data', 5, T0));
    expect(statSync(join(state, 'volumes')).mode & 0o777).toBe(0o700);
    expect(statSync(join(state, 'volumes', 'data.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(state, 'volumes'))).toEqual(['data.json']); // no temp files left
  });

  it('returns undefined for an unknown slug and an empty list without a directory', () => {
    expect(store.get('nope')).toBeUndefined();
    expect(store.list()).toEqual({ volumes: [], warnings: [] });
  });

  it('refuses invalid slugs before touching the file system', () => {
    expect(() => store.get('../etc/passwd')).toThrow('Invalid volume name');
    expect(() => store.remove('a/b')).toThrow('Invalid volume name');
  });

  it('counts every mount and keeps created_at and the limit', () => {
    store.put(newVolumeMetadata('data', 100, T0));
    for (let i = 0; i < 5; i++) store.markUsed('data', new Date(T0.getTime() + i * 1000));
    expect(store.get('data')).toMatchObject({
      mount_count: 5,
      size_bytes: 100,
      created_at: T0.toISOString(),
      last_used: '2026-01-02T03:04:09.000Z',
    });
    expect(readdirSync(join(state, 'volumes'))).toEqual(['data.json']); // lock released
  });

  it('starts metadata for a volume made elsewhere, with its label creation time', () => {
    const m = store.markUsed('foreign', T0, '2025-12-01T00:00:00.000Z');
    expect(m).toEqual({
      slug: 'foreign',
      size_bytes: 0,
      created_at: '2025-12-01T00:00:00.000Z',
      last_used: T0.toISOString(),
      mount_count: 1,
    });
  });

  it('lists sorted by slug and warns about bad files instead of failing', () => {
    store.put(newVolumeMetadata('b', 0, T0));
    store.put(newVolumeMetadata('a', 0, T0));
    writeFileSync(join(state, 'volumes', 'broken.json'), '{');
    writeFileSync(join(state, 'volumes', 'other.json'), JSON.stringify(newVolumeMetadata('mismatch', 0, T0)));
    const { volumes, warnings } = store.list();
    expect(volumes.map((v) => v.slug)).toEqual(['a', 'b']);
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('broken.json');
    expect(warnings.join('\n')).toContain('does not match the file name');
  });

  it('removes metadata; removing twice is fine', () => {
    store.put(newVolumeMetadata('data', 0, T0));
    store.remove('data');
    store.remove('data');
    expect(store.get('data')).toBeUndefined();
  });
});
