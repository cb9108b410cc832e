import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readProjectFile, refusalWords } from '../../../src/common/project-file.js';

describe('readProjectFile', () => {
  let dir: string;
  let outside: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mino-project-file-'));
    outside = mkdtempSync(join(tmpdir(), 'mino-project-file-out-'));
    writeFileSync(join(outside, 'secret.toml'), 'token = "s3cret"\n');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('reads a regular file with its mode', () => {
    writeFileSync(join(dir, 'a'), 'hello', { mode: 0o640 });
    const r = readProjectFile(join(dir, 'a'), { maxBytes: 10 });
    expect(r).toMatchObject({ kind: 'file', mode: 0o640 });
    expect(r.kind === 'file' && r.bytes.toString()).toBe('hello');
    expect(readProjectFile(join(dir, 'none'), { maxBytes: 10 })).toEqual({ kind: 'missing' });
  });

  it('never follows a symbolic link, to a file outside or to /dev/zero', () => {
    symlinkSync(join(outside, 'secret.toml'), join(dir, 'a'));
    symlinkSync('/dev/zero', join(dir, 'z'));
    expect(readProjectFile(join(dir, 'a'), { maxBytes: 1024 })).toEqual({ kind: 'refused', reason: 'symlink' });
    expect(readProjectFile(join(dir, 'z'), { maxBytes: 1024 })).toEqual({ kind: 'refused', reason: 'symlink' });
  });

  it('refuses a FIFO without blocking, and a directory', () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    mkdirSync(join(dir, 'd'));
    expect(readProjectFile(join(dir, 'fifo'), { maxBytes: 1024 })).toEqual({ kind: 'refused', reason: 'not-regular' });
    expect(readProjectFile(join(dir, 'd'), { maxBytes: 1024 })).toEqual({ kind: 'refused', reason: 'not-regular' });
  });

  it('refuses a file over the cap without reading it', () => {
    writeFileSync(join(dir, 'big'), '');
    truncateSync(join(dir, 'big'), 10 * 1024 * 1024 * 1024); // sparse 10 GiB
    expect(readProjectFile(join(dir, 'big'), { maxBytes: 1024 })).toEqual({
      kind: 'refused',
      reason: 'too-large',
      size: 10 * 1024 * 1024 * 1024,
    });
    writeFileSync(join(dir, 'exact'), 'x'.repeat(1024));
    expect(readProjectFile(join(dir, 'exact'), { maxBytes: 1024 }).kind).toBe('file');
    expect(refusalWords('too-large', 64 * 1024 * 1024)).toBe('is larger than 64 MiB');
  });

  it('refuses a file below a directory link that leads out of the project', () => {
    mkdirSync(join(outside, 'layers'));
    writeFileSync(join(outside, 'layers', 'f'), 'x');
    symlinkSync(outside, join(dir, '.mino'));
    expect(readProjectFile(join(dir, '.mino', 'layers', 'f'), { maxBytes: 10, root: dir })).toEqual({
      kind: 'refused',
      reason: 'parent-symlink',
    });
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'f'), 'y');
    expect(readProjectFile(join(dir, 'real', 'f'), { maxBytes: 10, root: dir }).kind).toBe('file');
  });
});
