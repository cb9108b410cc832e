import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ECOSYSTEMS,
  LOCKFILES,
  MAX_LOCKFILE_BYTES,
  cacheKeyOf,
  detectLockfiles,
  type SkippedLockfile,
} from '../../../src/cache/lockfiles.js';

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
    expect(found.map((l) => `${l.ecosystem}:${l.file}`)).toEqual([
      'npm:package-lock.json',
      'cargo:Cargo.lock',
      'pip:Pipfile.lock',
      'go:go.sum',
    ]);
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

describe('hostile lockfiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-lockfiles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('skips a FIFO (without hanging), a link to /dev/zero and an oversized lockfile, each with a reason', () => {
    execFileSync('mkfifo', [join(dir, 'package-lock.json')]);
    symlinkSync('/dev/zero', join(dir, 'yarn.lock'));
    writeFileSync(join(dir, 'Cargo.lock'), '');
    truncateSync(join(dir, 'Cargo.lock'), MAX_LOCKFILE_BYTES + 1);
    writeFileSync(join(dir, 'go.sum'), 'ok');
    const skipped: SkippedLockfile[] = [];
    expect(detectLockfiles(dir, undefined, skipped).map((l) => l.file)).toEqual(['go.sum']);
    expect(skipped).toEqual([
      { ecosystem: 'npm', file: 'package-lock.json', why: 'is not a regular file' },
      { ecosystem: 'yarn', file: 'yarn.lock', why: 'is a symbolic link' },
      { ecosystem: 'cargo', file: 'Cargo.lock', why: 'is larger than 64 MiB' },
    ]);
  });
});
