import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonObject, readJsonCache, writeJsonCache } from '../../../src/common/json-cache-file.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-json-cache-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('json-cache-file', () => {
  it('reads back what it wrote, as a private file, leaving no temporary file', () => {
    const path = join(dir, 'memo.json');
    expect(writeJsonCache(path, { a: [1, 'x'] })).toBe(true);
    expect(readJsonCache(path, jsonObject)).toEqual({ a: [1, 'x'] });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['memo.json']);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('reads a missing, malformed or unaccepted file as nothing', () => {
    const path = join(dir, 'memo.json');
    expect(readJsonCache(path, jsonObject)).toBeUndefined();
    writeFileSync(path, '{"a": ');
    expect(readJsonCache(path, jsonObject)).toBeUndefined();
    writeFileSync(path, '[1, 2]');
    expect(readJsonCache(path, jsonObject)).toBeUndefined();
    writeFileSync(path, 'null');
    expect(readJsonCache(path, jsonObject)).toBeUndefined();
  });

  it('leaves a missing directory missing unless told to make it', () => {
    const missing = join(dir, 'state', 'memo.json');
    expect(writeJsonCache(missing, {})).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    expect(writeJsonCache(missing, { b: 1 }, 0o700)).toBe(true);
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(readJsonCache(missing, jsonObject)).toEqual({ b: 1 });
  });
});
