import { describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  MAX_SESSION_NAME,
  defaultSessionName,
  isValidSessionName,
  validateSessionName,
} from '../../../src/session/session-name.js';

function rejection(name: string): MinoError {
  try {
    validateSessionName(name);
  } catch (err) {
    expect(err).toBeInstanceOf(MinoError);
    return err as MinoError;
  }
  throw new Error(`'${name}' was accepted`);
}

describe('validateSessionName', () => {
  it.each(['my-session', 'session_1', 'abc123', 'A', '_x', 'x-', 'x'.repeat(MAX_SESSION_NAME)])(
    'accepts %j',
    (name) => {
      expect(validateSessionName(name)).toBe(name);
      expect(isValidSessionName(name)).toBe(true);
    },
  );

  it.each([
    ['', 'must not be empty'],
    ['..', "path separators or '..'"],
    ['../x', "path separators or '..'"],
    ['../../../etc/passwd', "path separators or '..'"],
    ['a/b', "path separators or '..'"],
    ['a\\b', "path separators or '..'"],
    ['foo\0bar', 'NUL byte'],
    ['foo bar', "only letters, digits, '_' and '-'"],
    ['foo.bar', "only letters, digits, '_' and '-'"],
    ['foo@bar', "only letters, digits, '_' and '-'"],
    ['ä', "only letters, digits, '_' and '-'"],
    ['-', "must not start with '-'"],
    ['-x', "must not start with '-'"],
    ['--rm', "must not start with '-'"],
    ['x'.repeat(300), `longer than ${MAX_SESSION_NAME} characters`],
    ['x'.repeat(MAX_SESSION_NAME + 1), `longer than ${MAX_SESSION_NAME} characters`],
  ])('rejects %j', (name, reason) => {
    const err = rejection(name);
    expect(err.message).toMatch(/^Invalid session name '/);
    expect(err.message).toContain(reason);
    expect(err.hint).toMatch(/-n/);
    expect(err.exitCode).toBe(2);
    expect(isValidSessionName(name)).toBe(false);
  });

  it('limits names to 64 characters', () => {
    expect(MAX_SESSION_NAME).toBe(64);
  });

  it('shows control characters escaped and long names shortened in the message', () => {
    expect(rejection('a\0b').message).toBe("Invalid session name 'a\\x00b': it must not contain a NUL byte");
    expect(rejection('x'.repeat(300)).message.length).toBeLessThan(160);
  });
});

describe('defaultSessionName', () => {
  it('is session- plus 8 hex digits, valid, and different each time', () => {
    const names = new Set(Array.from({ length: 50 }, () => defaultSessionName()));
    expect(names.size).toBe(50);
    for (const name of names) {
      expect(name).toMatch(/^session-[0-9a-f]{8}$/);
      expect(validateSessionName(name)).toBe(name);
    }
  });
});
