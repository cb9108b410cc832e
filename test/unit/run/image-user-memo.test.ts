import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rememberedImageUser, rememberedStoreIndex, rememberImageUser } from '../../../src/run/image-user-memo.js';

const REF = 'localhost/app:1';
const ID = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

let state: string;
let index: string;

beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'mino-image-users-'));
  index = join(state, 'images.json');
});

afterEach(() => {
  rmSync(state, { recursive: true, force: true });
});

/** The engine's image store index naming `id` by REF. */
function storeNames(id: string): void {
  writeFileSync(index, JSON.stringify([{ id, names: [REF] }]));
}

describe('image-user-memo', () => {
  it("remembers an image's user while the reference names the same image ID, in a private file", () => {
    storeNames(ID);
    rememberImageUser(state, REF, { id: ID, user: 'developer', index });
    expect(rememberedImageUser(state, REF)).toBe('developer');
    expect(rememberedStoreIndex(state)).toBe(index);
    expect(statSync(join(state, 'image-users.json')).mode & 0o777).toBe(0o600);
    storeNames(OTHER); // rebuilt under the same reference
    expect(rememberedImageUser(state, REF)).toBeUndefined();
  });

  it('reads a malformed file as nothing, and replaces it', () => {
    writeFileSync(join(state, 'image-users.json'), '{"images": ');
    expect(rememberedImageUser(state, REF)).toBeUndefined();
    expect(rememberedStoreIndex(state)).toBeUndefined();
    storeNames(ID);
    rememberImageUser(state, REF, { id: ID, user: '1000', index });
    expect(rememberedImageUser(state, REF)).toBe('1000');
    expect(JSON.parse(readFileSync(join(state, 'image-users.json'), 'utf8')).index).toBe(index);
  });
});
