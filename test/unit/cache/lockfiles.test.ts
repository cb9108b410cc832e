import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ECOSYSTEMS, LOCKFILES, cacheKeyOf, detectLockfiles } from '../../../src/cache/lockfiles.js';

describe('lockfile detection', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-lockfiles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps mino 1.6's table and order", () => {
    expect(ECOSYSTEMS).toEqual(['npm', 'yarn', 'pnpm', 'cargo', 'pip', 'poetry', 'uv', 'go']);
    expect(LOCKFILES.npm).toEqual(['package-lock.json', 'npm-shrinkwrap.json']);
    expect(LOCKFILES.pip).toEqual(['requirements.txt', 'Pipfile.lock']);
    expect(LOCKFILES.go).toEqual(['go.sum']);
  });

  it('finds nothing in a project without lockfiles', () => {
    writeFileSync(join(dir, 'package.json'), '{}');
    expect(detectLockfiles(dir)).toEqual([]);
  });

  it('keys a cache by the first 12 hex digits of the sha256 of the lockfile', () => {
    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3}');
    const expected = createHash('sha256').update('{"lockfileVersion":3}').digest('hex').slice(0, 12);
    expect(detectLockfiles(dir)).toEqual([{ ecosystem: 'npm', file: 'package-lock.json', hash: expected }]);
    expect(cacheKeyOf('{"lockfileVersion":3}')).toBe(expected);
  });

  it('takes the first lockfile of an ecosystem and reports ecosystems in table order', () => {
    writeFileSync(join(dir, 'go.sum'), 'g');
    writeFileSync(join(dir, 'Cargo.lock'), 'c');
    writeFileSync(join(dir, 'npm-shrinkwrap.json'), 's');
    writeFileSync(join(dir, 'package-lock.json'), 'p');
    writeFileSync(join(dir, 'Pipfile.lock'), 'f');
    const found = detectLockfiles(dir);
    expect(found.map((l) => `${l.ecosystem}:${l.file}`)).toEqual(['npm:package-lock.json', 'cargo:Cargo.lock', 'pip:Pipfile.lock', 'go:go.sum']);
  });

  it('looks at the project root only and skips directories named like lockfiles', () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'yarn.lock'), 'y');
    mkdirSync(join(dir, 'Cargo.lock'));
    expect(detectLockfiles(dir)).toEqual([]);
  });

  it('changes the key when the lockfile changes', () => {
    writeFileSync(join(dir, 'uv.lock'), 'a');
    const first = detectLockfiles(dir)[0]?.hash;
    writeFileSync(join(dir, 'uv.lock'), 'b');
    expect(detectLockfiles(dir)[0]?.hash).not.toBe(first);
  });
});
