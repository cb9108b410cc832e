import { describe, expect, it } from 'vitest';
import {
  InvalidVolumeMetadataError,
  markedUsed,
  newVolumeMetadata,
  parseVolumeMetadata,
  serializeVolumeMetadata,
} from '../../../src/volume/volume-metadata.js';

const T0 = new Date('2026-01-02T03:04:05.000Z');
const T1 = new Date('2026-01-03T00:00:00.000Z');

describe('volume metadata', () => {
  it('starts unused, with every field', () => {
    expect(newVolumeMetadata('data', 2048, T0)).toEqual({
      slug: 'data',
      size_bytes: 2048,
      created_at: T0.toISOString(),
      last_used: null,
      mount_count: 0,
    });
  });

  it('marks uses: last_used and mount_count', () => {
    const once = markedUsed(newVolumeMetadata('data', 0, T0), T1);
    expect(once).toMatchObject({ last_used: T1.toISOString(), mount_count: 1, created_at: T0.toISOString() });
    expect(markedUsed(once, T1).mount_count).toBe(2);
  });

  it('serializes in a fixed field order and parses back', () => {
    const m = markedUsed(newVolumeMetadata('data', 10, T0), T1);
    const text = serializeVolumeMetadata(m);
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'slug',
      'size_bytes',
      'created_at',
      'last_used',
      'mount_count',
    ]);
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseVolumeMetadata(text)).toEqual(m);
  });

  it('reads a file with defaults for missing optional fields', () => {
    expect(parseVolumeMetadata('{"slug":"old","created_at":"2025-05-01T12:00:00.123456789+00:00"}')).toEqual({
      slug: 'old',
      size_bytes: 0,
      created_at: '2025-05-01T12:00:00.123456789+00:00',
      last_used: null,
      mount_count: 0,
    });
  });

  it.each([
    ['not json', 'not valid JSON'],
    ['[]', 'not a JSON object'],
    ['{"created_at":"2025-01-01T00:00:00Z"}', "field 'slug'"],
    ['{"slug":"a b","created_at":"2025-01-01T00:00:00Z"}', "field 'slug'"],
    ['{"slug":"a"}', "field 'created_at'"],
    ['{"slug":"a","created_at":"2025-01-01T00:00:00Z","size_bytes":-1}', "field 'size_bytes'"],
    ['{"slug":"a","created_at":"2025-01-01T00:00:00Z","size_bytes":1.5}', "field 'size_bytes'"],
    ['{"slug":"a","created_at":"2025-01-01T00:00:00Z","last_used":"yesterday"}', "field 'last_used'"],
    ['{"slug":"a","created_at":"2025-01-01T00:00:00Z","mount_count":"3"}', "field 'mount_count'"],
  ])('rejects %s', (text, why) => {
    expect(() => parseVolumeMetadata(text)).toThrow(InvalidVolumeMetadataError);
    expect(() => parseVolumeMetadata(text)).toThrow(why);
  });
});
