import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { checkProjectDir, isCanonicalAbsolute } from '../../../src/launch/project-guard.js';
import { thrown } from '../../helpers/thrown.js';

const NONE = { home: false, system: false };
const HOME = { home: true, system: false };
const SYSTEM = { home: false, system: true };

describe('checkProjectDir', () => {
  it('accepts a project below the home directory and elsewhere', () => {
    expect(checkProjectDir('/home/alice/src/app', '/home/alice', NONE)).toBe('/home/alice/src/app');
    expect(checkProjectDir('/srv/app', '/home/alice', NONE)).toBe('/srv/app');
    // A sibling that only shares a prefix is not a parent.
    expect(checkProjectDir('/home/al', '/home/alice', NONE)).toBe('/home/al');
  });

  it.each([
    ['/', 'Refusing to use / as the project directory: it is the root of the host file system'],
    ['/home/alice', 'Refusing to use /home/alice as the project directory: it is your home directory'],
    ['/home', 'Refusing to use /home as the project directory: it contains your home directory /home/alice'],
  ])('refuses %s with a hint about --allow-home', (dir, message) => {
    const err = thrown(() => checkProjectDir(dir, '/home/alice', NONE));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(message);
    expect(err.hint).toContain('--allow-home');
  });

  it.each([
    ['/run', 'it is the system directory /run'],
    ['/run/mino', 'it is inside the system directory /run'],
    ['/etc', 'it is the system directory /etc'],
    ['/usr/local/src', 'it is inside the system directory /usr'],
    ['/var', 'it is the system directory /var'],
  ])(
    'refuses the system directory %s as the project, as it does as a volume, unless --allow-system-paths',
    (dir, why) => {
      const err = thrown(() => checkProjectDir(dir, '/home/alice', NONE));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`Refusing to use ${dir} as the project directory: ${why}`);
      expect(err.hint).toContain('pass --allow-system-paths to mount it anyway');
      expect(checkProjectDir(dir, '/home/alice', SYSTEM)).toBe(dir);
    },
  );

  it("refuses another user's home directory and its parents unless --allow-home (as root above all)", () => {
    const homes = [
      { user: 'root', home: '/root' },
      { user: 'alice', home: '/home/alice' },
      { user: 'bob', home: '/srv/users/bob' },
    ];
    expect(thrown(() => checkProjectDir('/home/alice', '/root', NONE, homes)).message).toBe(
      'Refusing to use /home/alice as the project directory: it is the home directory of user alice',
    );
    expect(thrown(() => checkProjectDir('/srv/users', '/root', NONE, homes)).message).toBe(
      'Refusing to use /srv/users as the project directory: it contains the home directory /srv/users/bob of user bob',
    );
    expect(thrown(() => checkProjectDir('/srv/users/bob', '/home/alice', NONE, homes)).hint).toContain('--allow-home');
    expect(checkProjectDir('/home/alice/src', '/root', NONE, homes)).toBe('/home/alice/src');
    expect(checkProjectDir('/home/alice', '/root', HOME, homes)).toBe('/home/alice');
    // The caller's own home is judged as their own.
    expect(thrown(() => checkProjectDir('/home/alice', '/home/alice', NONE, homes)).message).toContain(
      'it is your home directory',
    );
  });

  it('allows them with allowHome', () => {
    expect(checkProjectDir('/', '/home/alice', HOME)).toBe('/');
    expect(checkProjectDir('/home/alice', '/home/alice', HOME)).toBe('/home/alice');
    expect(checkProjectDir('/home', '/home/alice', HOME)).toBe('/home');
  });

  it.each(['relative/dir', '/home/alice/src/', '/home/alice/./src', '/home/alice/../bob'])(
    'rejects the non-canonical path %j',
    (dir) => {
      expect(thrown(() => checkProjectDir(dir, '/home/alice', HOME)).message).toContain(
        'is not a canonical absolute path',
      );
    },
  );

  it.each(['/home/alice/a:b', '/home/alice/a,b', '/home/alice/a\nb'])(
    'rejects a path podman cannot mount: %j',
    (dir) => {
      const err = thrown(() => checkProjectDir(dir, '/home/alice', HOME));
      expect(err.message).toContain("contains ':', ',' or a control character, which podman cannot mount");
      expect(err.hint).toContain('Rename the directory');
    },
  );

  it('rejects a relative home directory', () => {
    expect(thrown(() => checkProjectDir('/srv/app', 'alice', NONE)).message).toBe(
      "Home directory 'alice' is not a canonical absolute path",
    );
  });

  it('isCanonicalAbsolute', () => {
    expect(isCanonicalAbsolute('/')).toBe(true);
    expect(isCanonicalAbsolute('/a/b')).toBe(true);
    expect(isCanonicalAbsolute('/a//b')).toBe(false);
    expect(isCanonicalAbsolute('')).toBe(false);
  });
});
