import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import { DEFAULT_WORKDIR } from '../../../src/config/defaults.js';
import { isSafeFolderName, resolveWorkdir, WORKDIR_BLOCKLIST } from '../../../src/launch/workdir.js';
import { thrown } from '../../helpers/thrown.js';

describe('resolveWorkdir', () => {
  it('uses /<project folder name>', () => {
    expect(resolveWorkdir('/home/alice/src/webapp')).toBe('/webapp');
    expect(resolveWorkdir('/home/alice/My Project')).toBe('/My Project');
    expect(resolveWorkdir('/srv/café')).toBe('/café');
  });

  it('keeps mino 1.6 blocklist exactly', () => {
    expect([...WORKDIR_BLOCKLIST].sort()).toEqual([
      'bin',
      'cache',
      'dev',
      'etc',
      'home',
      'lib',
      'lib64',
      'opt',
      'proc',
      'root',
      'run',
      'sbin',
      'ssh-agent',
      'sys',
      'tmp',
      'usr',
      'var',
      'workspace',
    ]);
  });

  it.each([...WORKDIR_BLOCKLIST])('falls back to /workspace for a project folder named %s', (name) => {
    expect(resolveWorkdir(`/home/alice/${name}`)).toBe(DEFAULT_WORKDIR);
  });

  it('compares the blocklist case-sensitively (the container filesystem is)', () => {
    expect(resolveWorkdir('/home/alice/Usr')).toBe('/Usr');
    expect(resolveWorkdir('/home/alice/bin2')).toBe('/bin2');
  });

  it.each([
    ['hidden folder', '/home/alice/.dotfiles'],
    ['colon', '/home/alice/a:b'],
    ['comma', '/home/alice/a,b'],
    ['newline', '/home/alice/a\nb'],
    ['tab', '/home/alice/a\tb'],
    ['backslash', '/home/alice/a\\b'],
    ['root', '/'],
  ])('falls back to /workspace for an unsafe name (%s)', (_label, dir) => {
    expect(resolveWorkdir(dir)).toBe('/workspace');
  });

  it('isSafeFolderName agrees', () => {
    expect(isSafeFolderName('webapp')).toBe(true);
    expect(isSafeFolderName('')).toBe(false);
    expect(isSafeFolderName('..')).toBe(false);
    expect(isSafeFolderName('etc')).toBe(false);
  });

  it('uses a configured workdir as is, except the default /workspace', () => {
    expect(resolveWorkdir('/home/alice/src/webapp', '/src/app')).toBe('/src/app');
    expect(resolveWorkdir('/home/alice/src/webapp', '/home/developer/app')).toBe('/home/developer/app');
    expect(resolveWorkdir('/home/alice/src/webapp', '/workspace')).toBe('/webapp');
  });

  it.each([
    ['relative', 'app', 'not an absolute path'],
    ['colon', '/a:b', "contains ':', ',' or a control character"],
    ['comma', '/a,b', "contains ':', ',' or a control character"],
    ['root', '/', 'the project cannot be mounted over the container root'],
    ['dotdot', '/a/../b', 'not a normalised path'],
    ['trailing slash', '/app/', 'not a normalised path'],
    ['system dir', '/usr', 'mounting the project over /usr would hide a system or reserved directory'],
    ['reserved dir', '/ssh-agent', 'mounting the project over /ssh-agent would hide'],
  ])('rejects a configured workdir: %s', (_label, dir, why) => {
    const err = thrown(() => resolveWorkdir('/home/alice/p', dir));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.message).toContain(`Invalid container.workdir '${dir}': ${why}`);
    expect(err.hint).toContain('absolute path');
  });
});
