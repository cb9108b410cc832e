import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/common/atomic-write.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-atomic-write-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('writeFileAtomic', () => {
  it('without durable still replaces the file whole, with its mode, and leaves no temporary file', () => {
    const path = join(dir, 'sub', 'counters.json');
    writeFileAtomic(path, 'old\n', { mode: 0o600, mkdirMode: 0o700, durable: false });
    writeFileAtomic(path, 'new\n', { mode: 0o600, durable: false });
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['counters.json']);
    expect(mode(path)).toBe(0o600);
  });

  it('writes a new file with mode 0644 by default and leaves no temporary file', () => {
    const path = join(dir, 'trust.json');
    writeFileAtomic(path, '{"a":1}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    expect(readdirSync(dir)).toEqual(['trust.json']);
    // 0644 survives the usual umasks (022, 002); 077 would make it 0600.
    expect([0o644, 0o600]).toContain(mode(path));
  });

  it('creates the file with the mode asked for', () => {
    writeFileAtomic(join(dir, 'secret.env'), 'TOKEN=x\n', { mode: 0o600 });
    expect(mode(join(dir, 'secret.env'))).toBe(0o600);
    writeFileAtomic(join(dir, 'hook.sh'), '#!/bin/sh\n', { mode: 0o700 });
    expect(mode(join(dir, 'hook.sh'))).toBe(0o700);
  });

  it('replaces existing content completely, including a longer old file', () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, 'old content that is much longer than the new one\n');
    writeFileAtomic(path, 'new\n');
    expect(readFileSync(path, 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('gives a replaced file the new mode', () => {
    const path = join(dir, 'env');
    writeFileSync(path, 'x', { mode: 0o644 });
    writeFileAtomic(path, 'TOKEN=y', { mode: 0o600 });
    expect(mode(path)).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('TOKEN=y');
  });

  it('writes binary data byte for byte', () => {
    const path = join(dir, 'blob');
    const data = new Uint8Array([0, 255, 10, 13, 0xc3]);
    writeFileAtomic(path, data);
    expect([...readFileSync(path)]).toEqual([0, 255, 10, 13, 0xc3]);
  });

  it('creates missing parent directories only when asked to', () => {
    const path = join(dir, 'a', 'b', 'sessions.json');
    expect(() => writeFileAtomic(path, 'x')).toThrow(/ENOENT/);
    writeFileAtomic(path, 'x', { mkdirMode: 0o700 });
    expect(readFileSync(path, 'utf8')).toBe('x');
    expect(mode(join(dir, 'a'))).toBe(0o700);
    expect(mode(join(dir, 'a', 'b'))).toBe(0o700);
  });

  it('leaves no temporary file behind when the target cannot be replaced', () => {
    const path = join(dir, 'taken');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'keep');
    expect(() => writeFileAtomic(path, 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(path, 'inside'), 'utf8')).toBe('keep');
  });
});
