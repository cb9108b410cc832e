import { describe, expect, it } from 'vitest';
import { cacheVolumeLabels, cacheVolumeName, parseCacheVolumeName } from '../../../src/cache/cache-volume.js';

describe('cache volume names and labels', () => {
  it('names a cache mino-cache-<ecosystem>-<12 hex>, with a 6-hex suffix for --cache-fresh', () => {
    expect(cacheVolumeName('npm', 'a1b2c3d4e5f6')).toBe('mino-cache-npm-a1b2c3d4e5f6');
    expect(cacheVolumeName('go', 'a1b2c3d4e5f6', '0f0f0f')).toBe('mino-cache-go-a1b2c3d4e5f6-0f0f0f');
  });

  it('refuses bad parts', () => {
    expect(() => cacheVolumeName('npm', 'A1B2C3D4E5F6')).toThrow(/invalid cache key/);
    expect(() => cacheVolumeName('npm', 'a1b2c3')).toThrow(/invalid cache key/);
    expect(() => cacheVolumeName('ruby' as never, 'a1b2c3d4e5f6')).toThrow(/unknown ecosystem/);
    expect(() => cacheVolumeName('npm', 'a1b2c3d4e5f6', '../x')).toThrow(/generation/);
  });

  it('parses names back to the canonical name (the sidecar key)', () => {
    expect(parseCacheVolumeName('mino-cache-cargo-a1b2c3d4e5f6-0f0f0f')).toEqual({
      ecosystem: 'cargo',
      hash: 'a1b2c3d4e5f6',
      base: 'mino-cache-cargo-a1b2c3d4e5f6',
    });
    expect(parseCacheVolumeName('mino-cache-npm-a1b2c3d4e5f6')?.base).toBe('mino-cache-npm-a1b2c3d4e5f6');
    for (const bad of [
      'mino-cache-ruby-a1b2c3d4e5f6',
      'mino-home-a1b2c3d4e5f6',
      'mino-cache-npm-a1b2',
      'mino-cache-npm-a1b2c3d4e5f6-x',
    ]) {
      expect(parseCacheVolumeName(bad)).toBeUndefined();
    }
  });

  it('labels a cache as mino 1.6 does, test labels last', () => {
    expect(
      cacheVolumeLabels('pip', 'a1b2c3d4e5f6', new Date('2026-01-02T03:04:05Z'), { 'io.mino.test': 'true' }),
    ).toEqual({
      'io.mino.cache': 'true',
      'io.mino.cache.ecosystem': 'pip',
      'io.mino.cache.hash': 'a1b2c3d4e5f6',
      'io.mino.cache.created_at': '2026-01-02T03:04:05.000Z',
      'io.mino.test': 'true',
    });
  });
});
