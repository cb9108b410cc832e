import { describe, expect, it } from 'vitest';
import { BASE_IMAGE_LATEST, baseImageTag, staleBaseTags } from '../../../src/image/base-image-tag.js';

const HASH = '80f734ff4218cbab5a2f91c65eb456be24aacc2d19b1a5efe97d0372a725b046';

describe('base image names', () => {
  it('tags with the first 12 hex of the content hash; latest is the stable alias', () => {
    expect(baseImageTag(HASH)).toBe('localhost/mino-base:80f734ff4218');
    expect(BASE_IMAGE_LATEST).toBe('localhost/mino-base:latest');
    expect(() => baseImageTag('xyz')).toThrow();
  });

  it('reports tags of other hashes as stale, never latest, the current one or other images', () => {
    const names = [
      'localhost/mino-base:80f734ff4218',
      'localhost/mino-base:latest',
      'mino-base:0123456789ab',
      'localhost/mino-base:aaaaaaaaaaaa',
      'localhost/mino-base-extra:bbbbbbbbbbbb',
      'localhost/mino-composed-123:latest',
      'localhost/mino-base:aaaaaaaaaaaa',
    ];
    expect(staleBaseTags(names, baseImageTag(HASH))).toEqual([
      'localhost/mino-base:0123456789ab',
      'localhost/mino-base:aaaaaaaaaaaa',
    ]);
    expect(staleBaseTags(['localhost/mino-base:80f734ff4218'], baseImageTag(HASH))).toEqual([]);
  });
});
