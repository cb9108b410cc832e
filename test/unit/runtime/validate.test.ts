import { describe, expect, it } from 'vitest';
import {
  validateEnvKey,
  validateEnvValue,
  validateImageRef,
  validateLabel,
  validateMountPath,
  validateObjectName,
  validateUser,
} from '../../../src/runtime/validate.js';
import { printable } from '../../../src/common/printable.js';
import { minoErrorOf as errorOf } from '../../helpers/thrown.js';

const DIGEST = `sha256:${'a1'.repeat(32)}`;

describe('validateImageRef', () => {
  it.each([
    'alpine',
    'localhost/mino-base:latest',
    'docker.io/library/debian:bookworm-slim',
    'quay.io/podman/stable',
    'localhost:5000/team/tool:v1.2.3',
    'Registry.Example.com/team/tool:1_0',
    `ghcr.io/owner/repo@${DIGEST}`,
    `alpine:3.20@${DIGEST}`,
    'my_image__x/a-b--c.d:TAG',
    '956954f86d80',
    '956954f86d80cf9aff72201ac4e7769844a6f39b5be0796080001422075d760a',
    'sha256:956954f86d80cf9aff72201ac4e7769844a6f39b5be0796080001422075d760a',
  ])('accepts %s', (ref) => {
    expect(validateImageRef(ref)).toBe(ref);
  });

  it.each([
    '',
    '-x',
    '--privileged',
    'Ubuntu',
    'alpine:',
    'alpine:-x',
    ' alpine',
    'alpine latest',
    'alpine\n',
    'a//b',
    'alpine@sha256:abc',
    '/alpine',
    'alpine/',
  ])('rejects %j', (ref) => {
    const err = errorOf(() => validateImageRef(ref));
    expect(err.message).toBe(`Invalid image reference '${printable(ref)}'`);
    expect(err.hint).toBe(
      'Use a reference such as localhost/mino-base:latest or docker.io/library/debian:bookworm-slim',
    );
  });
});

describe('validateObjectName', () => {
  it.each(['mino-demo_1.0', 'a', '0day', 'x'.repeat(253)])('accepts %s', (name) => {
    expect(validateObjectName('volume', name)).toBe(name);
  });

  it.each(['', '-x', '.hidden', '_x', 'a b', 'a/b', 'a:b', 'a,b', 'ä', 'x'.repeat(254)])('rejects %j', (name) => {
    const err = errorOf(() => validateObjectName('volume', name));
    expect(err.message).toBe(`Invalid volume name '${printable(name)}'`);
    expect(err.hint).toBe(
      "A volume name starts with a letter or digit and uses only letters, digits, '_', '.' and '-'",
    );
  });

  it('names the kind of object in the message', () => {
    expect(errorOf(() => validateObjectName('secret', '-s')).message).toBe("Invalid secret name '-s'");
  });
});

describe('validateEnvKey', () => {
  it.each(['_', 'A1', 'lower_case', 'ANTHROPIC_API_KEY'])('accepts %s', (key) => {
    expect(validateEnvKey(key)).toBe(key);
  });

  it.each(['1A', 'A-B', 'A B', '', 'A=B', 'A\nB', 'É'])('rejects %j', (key) => {
    const err = errorOf(() => validateEnvKey(key));
    expect(err.message).toBe(`Invalid environment variable name '${printable(key)}'`);
    expect(err.hint).toBe('Names use letters, digits and underscores and do not start with a digit');
  });
});

describe('validateEnvValue', () => {
  it('accepts empty, multi-line and unicode values', () => {
    expect(validateEnvValue('A', '')).toBe('');
    expect(validateEnvValue('A', 'line1\nline2')).toBe('line1\nline2');
    expect(validateEnvValue('A', 'héllo ✓')).toBe('héllo ✓');
  });

  it('rejects a NUL byte, naming the variable', () => {
    expect(errorOf(() => validateEnvValue('SECRET', 'abc\0def')).message).toBe(
      'Environment variable SECRET contains a NUL byte',
    );
  });
});

describe('validateLabel', () => {
  it('accepts dotted and slashed keys with any printable value', () => {
    expect(() => validateLabel('io.mino.project', 'demo')).not.toThrow();
    expect(() => validateLabel('com.example/role', 'a=b c,d:e')).not.toThrow();
    expect(() => validateLabel('k', '')).not.toThrow();
  });

  it.each(['', '.x', '-x', 'a=b', 'a b', 'a,b', 'x'.repeat(254)])('rejects the key %j', (key) => {
    expect(errorOf(() => validateLabel(key, 'v')).message).toBe(`Invalid label key '${printable(key)}'`);
  });

  it('rejects a value with a NUL byte or newline', () => {
    expect(errorOf(() => validateLabel('io.mino.a', 'x\0')).message).toBe('Label io.mino.a has an invalid value');
    expect(errorOf(() => validateLabel('io.mino.a', 'x\ny')).message).toBe('Label io.mino.a has an invalid value');
  });
});

describe('validateMountPath', () => {
  it.each(['/', '/home/user/My Project', '/tmp/a.b-c_d', '/home/user/ünïcode'])('accepts %s', (path) => {
    expect(validateMountPath('source', path)).toBe(path);
  });

  it.each(['rel', '', '~/x', './x'])('rejects the relative path %j', (path) => {
    const err = errorOf(() => validateMountPath('target', path));
    expect(err.message).toBe(`Mount target '${path}' is not an absolute path`);
    expect(err.hint).toBeUndefined();
  });

  it.each([
    ['/a:b', '/a:b'],
    ['/a,b', '/a,b'],
    ['/a\nb', '/a\\x0ab'],
    ['/a\0b', '/a\\x00b'],
  ])('rejects %j, which podman would split', (path, shown) => {
    const err = errorOf(() => validateMountPath('source', path));
    expect(err.message).toBe(`Mount source '${shown}' contains ':', ',' or a control character`);
    expect(err.hint).toBe('Rename the directory or mount a parent directory without those characters');
  });
});

describe('printable', () => {
  it('shows control characters as \\x escapes', () => {
    expect(printable('a\nb\tc\x7f\x1b[31m')).toBe('a\\x0ab\\x09c\\x7f\\x1b[31m');
  });

  it('keeps a value of 80 characters and shortens a longer one to 80 with an ellipsis', () => {
    expect(printable('x'.repeat(80))).toBe('x'.repeat(80));
    expect(printable('x'.repeat(81))).toBe(`${'x'.repeat(77)}...`);
    // Escapes count towards the length.
    expect(printable(`${'x'.repeat(79)}\n`)).toBe(`${'x'.repeat(77)}...`);
  });
});

describe('validateUser', () => {
  it.each(['developer', '1000', '1000:1000', 'dev:staff', '_apt', 'user.name'])('accepts %s', (user) => {
    expect(validateUser(user)).toBe(user);
  });

  it.each(['root --privileged', '-u', ':1000', '1000:', 'a:b:c', '', 'a/b'])('rejects %j', (user) => {
    const err = errorOf(() => validateUser(user));
    expect(err.message).toBe(`Invalid user '${user}'`);
    expect(err.hint).toBe('Use NAME, UID or UID:GID');
  });
});

describe('parseDetachKeys (podman and docker syntax)', () => {
  it('reads ctrl-<c> and single characters, comma-separated', async () => {
    const { parseDetachKeys } = await import('../../../src/runtime/validate.js');
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-a,d')).toEqual([1, 100]);
    expect(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_')).toEqual([0, 27, 28, 29, 30, 31]);
    expect(parseDetachKeys('')).toEqual([]);
  });

  it.each(['ctrl-pq', 'ctrl-', 'ctrl-P', 'alt-x', 'p,,q', ',', 'ctrl-p,', 'é', 'ctrl-1'])(
    'refuses %j',
    async (keys) => {
      const { parseDetachKeys, validateDetachKeys } = await import('../../../src/runtime/validate.js');
      expect(parseDetachKeys(keys)).toBeUndefined();
      expect(() => validateDetachKeys(keys)).toThrow(/Invalid detach keys/);
    },
  );
});
