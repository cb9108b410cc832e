import { describe, expect, it } from 'vitest';
import { EXIT_FAILURE, EXIT_USAGE, MinoError, UsageError, errorMessage } from '../../../src/common/errors.js';

describe('MinoError', () => {
  it('exits with 1 and has no hint by default', () => {
    const err = new MinoError('Something failed');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('MinoError');
    expect(err.message).toBe('Something failed');
    expect(err.hint).toBeUndefined();
    expect(err.exitCode).toBe(1);
    expect(err.cause).toBeUndefined();
    expect('cause' in err).toBe(false);
  });

  it('carries a hint, exit code and cause', () => {
    const cause = new Error('ENOENT');
    const err = new MinoError('Cannot read config', { hint: 'Run: mino setup', exitCode: 3, cause });
    expect(err.hint).toBe('Run: mino setup');
    expect(err.exitCode).toBe(3);
    expect(err.cause).toBe(cause);
  });
});

describe('UsageError', () => {
  it('exits with 2 and keeps its hint', () => {
    const err = new UsageError("Unknown option '--foo'", 'Run: mino --help');
    expect(err).toBeInstanceOf(MinoError);
    expect(err.name).toBe('UsageError');
    expect(err.exitCode).toBe(2);
    expect(err.hint).toBe('Run: mino --help');
  });

  it('uses the documented exit codes', () => {
    expect(EXIT_USAGE).toBe(2);
    expect(EXIT_FAILURE).toBe(1);
  });
});

describe('errorMessage', () => {
  it('returns the message of an error and the text of anything else', () => {
    expect(errorMessage(new TypeError('bad type'))).toBe('bad type');
    expect(errorMessage(new MinoError('mino failed'))).toBe('mino failed');
    expect(errorMessage('plain string')).toBe('plain string');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(null)).toBe('null');
  });
});
