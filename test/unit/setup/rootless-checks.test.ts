import { describe, expect, it } from 'vitest';
import { hasSubIdRange, judgeRuntimeDir } from '../../../src/setup/rootless-checks.js';

const SUBUID = 'minodev:100000:65536\nmino-test:165536:65536\n';

describe('hasSubIdRange', () => {
  it('finds a range listed under the user name', () => {
    expect(hasSubIdRange(SUBUID, 'mino-test', 1002)).toBe(true);
    expect(hasSubIdRange(SUBUID, 'minodev', 1001)).toBe(true);
  });

  it('finds a range listed under the numeric uid', () => {
    expect(hasSubIdRange('1000:100000:65536\n', 'alice', 1000)).toBe(true);
  });

  it('does not match another user whose name shares a prefix', () => {
    expect(hasSubIdRange(SUBUID, 'mino', 1000)).toBe(false);
    expect(hasSubIdRange('10000:100000:65536\n', 'alice', 1000)).toBe(false);
  });

  it('does not count a zero-length or malformed range', () => {
    expect(hasSubIdRange('alice:100000:0\n', 'alice', 1000)).toBe(false);
    expect(hasSubIdRange('alice:100000\n', 'alice', 1000)).toBe(false);
    expect(hasSubIdRange('alice:100000:lots\n', 'alice', 1000)).toBe(false);
  });

  it('tolerates surrounding whitespace and blank lines', () => {
    expect(hasSubIdRange('\n  alice:100000:65536  \n\n', 'alice', 1000)).toBe(true);
  });

  it('finds nothing in an empty file', () => {
    expect(hasSubIdRange('', 'alice', 1000)).toBe(false);
  });
});

describe('judgeRuntimeDir', () => {
  const dir = (mode: number, uid = 1000): { isDirectory: boolean; uid: number; mode: number } => ({
    isDirectory: true,
    uid,
    mode: 0o40000 | mode,
  });

  it('0700 is fine', () => {
    expect(judgeRuntimeDir(1000, '/run/user/1000', dir(0o700))).toEqual({ kind: 'ok', dir: '/run/user/1000' });
  });

  it('only x for others (0711, 0710, 0701, as podman leaves it): narrow, a warning setup repairs', () => {
    for (const mode of [0o711, 0o710, 0o701]) {
      const state = judgeRuntimeDir(1000, '/run/user/1000', dir(mode));
      expect(state.kind, mode.toString(8)).toBe('narrow');
    }
    expect(judgeRuntimeDir(1000, '/run/user/1000', dir(0o711))).toMatchObject({
      mode: 0o711,
      detail:
        'XDG_RUNTIME_DIR /run/user/1000 is mode 0711, not 0700: others can reach files in it by name (podman widens it so for containers that do not map your user)',
    });
  });

  it('readable or writable by group or others is a failure', () => {
    for (const mode of [0o755, 0o750, 0o770, 0o702, 0o777]) {
      expect(judgeRuntimeDir(1000, '/run/user/1000', dir(mode)).kind, mode.toString(8)).toBe('open');
    }
    expect(judgeRuntimeDir(1000, '/d', dir(0o755))).toMatchObject({
      detail: 'XDG_RUNTIME_DIR /d is accessible by others (mode 0755)',
    });
  });

  it("unset, missing, not a directory or not the user's: unusable", () => {
    expect(judgeRuntimeDir(1000, undefined, undefined)).toEqual({
      kind: 'unusable',
      detail: 'XDG_RUNTIME_DIR is not set',
    });
    expect(judgeRuntimeDir(1000, '/d', undefined)).toEqual({
      kind: 'unusable',
      detail: 'XDG_RUNTIME_DIR /d does not exist',
    });
    expect(judgeRuntimeDir(1000, '/d', { isDirectory: false, uid: 1000, mode: 0o700 })).toEqual({
      kind: 'unusable',
      detail: 'XDG_RUNTIME_DIR /d is not a directory',
    });
    expect(judgeRuntimeDir(1000, '/d', dir(0o700, 0))).toEqual({
      kind: 'unusable',
      detail: 'XDG_RUNTIME_DIR /d is owned by uid 0, not 1000',
    });
  });
});
