import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageIdInStoreIndex } from '../../../src/runtime/image-store-index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function index(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mino-images-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'images.json'), content);
  return join(dir, 'images.json');
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe("the image ID a reference names in the engine's image store index", () => {
  it('is the ID of the one image carrying exactly that name', () => {
    const path = index(
      JSON.stringify([
        { id: A, names: ['localhost/mino-base:abc', 'localhost/mino-base:latest'], layer: 'x' },
        { id: B, names: ['localhost/other:1'] },
        { id: 'c'.repeat(64) },
      ]),
    );
    expect(imageIdInStoreIndex(path, 'localhost/mino-base:latest')).toBe(A);
    expect(imageIdInStoreIndex(path, 'localhost/other:1')).toBe(B);
    // Exact names only: podman resolves short names and missing tags.
    expect(imageIdInStoreIndex(path, 'mino-base')).toBeUndefined();
    expect(imageIdInStoreIndex(path, 'localhost/mino-base')).toBeUndefined();
  });

  it('cannot tell (undefined: ask the engine) for two images with one name, a bad ID, or a file that does not parse', () => {
    expect(
      imageIdInStoreIndex(
        index(
          JSON.stringify([
            { id: A, names: ['x:1'] },
            { id: B, names: ['x:1'] },
          ]),
        ),
        'x:1',
      ),
    ).toBeUndefined();
    expect(imageIdInStoreIndex(index(JSON.stringify([{ id: 'not-an-id', names: ['x:1'] }])), 'x:1')).toBeUndefined();
    expect(imageIdInStoreIndex(index('{"id":'), 'x:1')).toBeUndefined();
    expect(imageIdInStoreIndex(index('{}'), 'x:1')).toBeUndefined();
    expect(imageIdInStoreIndex('/nonexistent/images.json', 'x:1')).toBeUndefined();
  });
});
