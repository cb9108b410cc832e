import { describe, expect, it } from 'vitest';
import { isMinoImage } from '../../../src/image/mino-image.js';

describe('mino images', () => {
  it.each([
    ['localhost/mino-base:latest', true],
    ['localhost/mino-base:80f734ff4218', true],
    ['mino-base', true],
    ['localhost/mino-composed-0123abcd:latest', true],
    ['localhost/mino-composed-0123abcd', true],
    ['localhost/mino-test-busybox:latest', false],
    ['docker.io/library/debian:bookworm', false],
    ['localhost/mino-based:latest', false],
    ['localhost/mino-composed-XYZ:latest', false],
  ])('mino image %s: %s', (image, mino) => {
    expect(isMinoImage(image)).toBe(mino);
  });
});
