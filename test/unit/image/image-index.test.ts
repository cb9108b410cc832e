import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetComposed, forgetImageIndex, readImageIndex, rememberComposed } from '../../../src/image/image-index.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const tag = (n: number): string => `localhost/mino-composed-${String(n).padStart(12, '0')}:latest`;

describe('image index', () => {
  const dirs: string[] = [];
  const dataDir = (): string => {
    const d = join(mkdtempSync(join(tmpdir(), 'mino-index-')), 'mino');
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(join(d, '..'), { recursive: true, force: true });
  });

  it('is empty until something is remembered, then lists composed tags per base (0600, parent created)', () => {
    const d = dataDir();
    expect(readImageIndex(d)).toBeUndefined();
    rememberComposed(d, A, tag(1));
    rememberComposed(d, A, tag(2));
    rememberComposed(d, A, tag(1));
    expect(readImageIndex(d)).toEqual({ base: A, composed: [tag(2), tag(1)] });
    expect(statSync(join(d, 'images.json')).mode & 0o777).toBe(0o600);
  });

  it('a new base replaces the list: images composed on the old base are never offered', () => {
    const d = dataDir();
    rememberComposed(d, A, tag(1));
    rememberComposed(d, B, tag(2));
    expect(readImageIndex(d)).toEqual({ base: B, composed: [tag(2)] });
  });

  it('forgets one tag, or everything', () => {
    const d = dataDir();
    rememberComposed(d, A, tag(1));
    rememberComposed(d, A, tag(2));
    forgetComposed(d, tag(1));
    expect(readImageIndex(d)?.composed).toEqual([tag(2)]);
    forgetImageIndex(d);
    expect(readImageIndex(d)).toBeUndefined();
  });

  it('treats a damaged file as no index', () => {
    const d = dataDir();
    rememberComposed(d, A, tag(1));
    for (const text of [
      '{',
      '[]',
      JSON.stringify({ base: 'short', composed: [] }),
      JSON.stringify({ base: A, composed: 'x' }),
    ]) {
      writeFileSync(join(d, 'images.json'), text);
      expect(readImageIndex(d)).toBeUndefined();
    }
  });
});
