import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir } from '../../../src/common/private-dir.js';

describe('ensurePrivateDir', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-private-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory 0700 with its parents, and accepts it again', () => {
    const dir = join(root, 'a', 'b');
    ensurePrivateDir(dir, 'tests');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(() => ensurePrivateDir(dir, 'tests')).not.toThrow();
  });

  it('refuses a directory others may enter, and a symlink to a private one, naming its use', () => {
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(() => ensurePrivateDir(open, 'tests')).toThrow(
      `Unsafe directory for tests: ${open} must be a directory of yours with mode 0700`,
    );
    const real = join(root, 'real');
    ensurePrivateDir(real, 'tests');
    symlinkSync(real, join(root, 'link'));
    expect(() => ensurePrivateDir(join(root, 'link'), 'tests')).toThrow('Unsafe directory for tests');
  });
});
