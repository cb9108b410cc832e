import { describe, expect, it } from 'vitest';
import { withPath } from '../../../src/common/errno.js';
import { STORAGE_ERRNOS, storageError } from '../../../src/common/storage-error.js';

const DIRS = [{ label: "mino's state directory", path: '/s/mino', variable: 'XDG_STATE_HOME' }];

function sysErr(code: string, extra: Partial<NodeJS.ErrnoException> = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failure`), { code, ...extra });
}

describe('storageError', () => {
  it.each([
    ['ENOSPC', 'the file system is full', /^Free space on the file system of \/s\/mino \(df -h \/s\/mino\)/],
    ['EDQUOT', 'your disk quota is used up', /^Free space under your quota/],
    ['EROFS', 'the file system is read-only', /^Remount the file system of \/s\/mino read-write/],
    ['EACCES', 'permission denied', /^mino must be able to write \/s\/mino: check its owner and mode/],
  ])('%s in the state directory: names the directory, the file and the cause, with a hint', (code, why, hint) => {
    const e = storageError(sysErr(code, { syscall: 'open', path: '/s/mino/sessions/a.json' }), DIRS)!;
    expect(e.message).toBe(
      `Cannot write to mino's state directory /s/mino (/s/mino/sessions/a.json): ${why} (${code})`,
    );
    expect(e.hint).toMatch(hint);
    expect(e.hint).toMatch(/, or set XDG_STATE_HOME to a directory on another file system$/);
    expect(e.exitCode).toBe(1);
  });

  it("names the parent directory of a file outside mino's directories", () => {
    expect(storageError(sysErr('EROFS', { syscall: 'open', path: '/elsewhere/x' }), DIRS)!.message).toBe(
      'Cannot write to /elsewhere (/elsewhere/x): the file system is read-only (EROFS)',
    );
  });

  it('a write(2) on a descriptor names its file once withPath set it', () => {
    const e = storageError(withPath(sysErr('ENOSPC', { syscall: 'write' }), '/s/mino/sessions/.a.lock'), DIRS)!;
    expect(e.message).toBe(
      "Cannot write to mino's state directory /s/mino (/s/mino/sessions/.a.lock): the file system is full (ENOSPC)",
    );
    expect(storageError(sysErr('ENOSPC', { syscall: 'write' }), DIRS)!.hint).toBe(
      "Check the file systems of mino's directories: /s/mino",
    );
  });

  it('leaves other errors alone: other codes, programs that cannot start, plain errors', () => {
    expect(storageError(sysErr('ENOENT', { path: '/s/mino/x' }), DIRS)).toBeUndefined();
    expect(storageError(sysErr('EACCES', { syscall: 'spawn podman', path: 'podman' }), DIRS)).toBeUndefined();
    expect(storageError(sysErr('EPERM', { syscall: 'kill' }), DIRS)).toBeUndefined();
    expect(storageError(new Error('boom'), DIRS)).toBeUndefined();
    expect(STORAGE_ERRNOS).toEqual(expect.arrayContaining(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES']));
  });
});
