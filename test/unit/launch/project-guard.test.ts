import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import { checkProjectDir, isCanonicalAbsolute } from '../../../src/launch/project-guard.js';
import { thrown } from './plan-input.js';

describe('checkProjectDir', () => {
  it('accepts a project below the home directory and elsewhere', () => {
    expect(checkProjectDir('/home/alice/src/app', '/home/alice', false)).toBe('/home/alice/src/app');
    expect(checkProjectDir('/srv/app', '/home/alice', false)).toBe('/srv/app');
    // A sibling that only shares a prefix is not a parent.
    expect(checkProjectDir('/home/al', '/home/alice', false)).toBe('/home/al');
  });

  it.each([
    ['/', 'Refusing to use / as the project directory'],
    ['/home/alice', 'Refusing to use your home directory /home/alice as the project directory'],
    ['/home', 'Refusing to use /home as the project directory: it contains your home directory /home/alice'],
  ])('refuses %s with a hint about --allow-home', (dir, message) => {
    const err = thrown(() => checkProjectDir(dir, '/home/alice', false));
    expect(err).toBeInstanceOf(MinoError);
    expect(err.message).toBe(message);
    expect(err.hint).toContain('--allow-home');
  });

  it('allows them with allowHome', () => {
    expect(checkProjectDir('/', '/home/alice', true)).toBe('/');
    expect(checkProjectDir('/home/alice', '/home/alice', true)).toBe('/home/alice');
    expect(checkProjectDir('/home', '/home/alice', true)).toBe('/home');
  });

  it.each(['relative/dir', '/home/alice/src/', '/home/alice/./src', '/home/alice/../bob'])('rejects the non-canonical path %j', (dir) => {
    expect(thrown(() => checkProjectDir(dir, '/home/alice', true)).message).toContain('is not a canonical absolute path');
  });

  it.each(['/home/alice/a:b', '/home/alice/a,b', '/home/alice/a\nb'])('rejects a path podman cannot mount: %j', (dir) => {
    const err = thrown(() => checkProjectDir(dir, '/home/alice', true));
    expect(err.message).toContain("contains ':', ',' or a control character, which podman cannot mount");
    expect(err.hint).toContain('Rename the directory');
  });

  it('rejects a relative home directory', () => {
    expect(thrown(() => checkProjectDir('/srv/app', 'alice', false)).message).toBe("Home directory 'alice' is not a canonical absolute path");
  });

  it('isCanonicalAbsolute', () => {
    expect(isCanonicalAbsolute('/')).toBe(true);
    expect(isCanonicalAbsolute('/a/b')).toBe(true);
    expect(isCanonicalAbsolute('/a//b')).toBe(false);
    expect(isCanonicalAbsolute('')).toBe(false);
  });
});
