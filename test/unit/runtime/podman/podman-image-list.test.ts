import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseImageList } from '../../../../src/runtime/podman/podman-json.js';

describe('podman image list', () => {
  it('merges the entries podman 4.3 prints once per name of one image', () => {
    const images = parseImageList(
      readFileSync(new URL('../../../fixtures/podman/images-mino.json', import.meta.url), 'utf8'),
    );
    const base = images.filter((i) => i.names.includes('localhost/mino-base:latest'));
    expect(base).toHaveLength(1);
    expect(base[0]?.names.sort()).toEqual(['localhost/mino-base:9e097138ece9', 'localhost/mino-base:latest']);
    expect(base[0]?.sizeBytes).toBeGreaterThan(0);
    expect(
      images.find((i) => i.names.some((n) => n.includes('mino-composed-1cc8716bddaa')))?.labels['io.mino.composed'],
    ).toBe('1');
  });

  it('reads an empty list and rejects output of another shape', () => {
    expect(parseImageList('')).toEqual([]);
    expect(parseImageList('null')).toEqual([]);
    expect(() => parseImageList('{"x":1}')).toThrow(/Unexpected podman output/);
    expect(() => parseImageList('json\njson')).toThrow(/invalid JSON/);
  });
});
