import { expect } from 'vitest';
import { MinoError } from '../../src/common/errors.js';

/** Calls `fn` and returns what it threw (fails the test when it does not throw). */
export function thrown(fn: () => unknown): Error & { hint?: string; exitCode?: number } {
  try {
    fn();
  } catch (err) {
    return err as Error & { hint?: string; exitCode?: number };
  }
  throw new Error('expected an error, but nothing was thrown');
}

/** Calls `fn` and returns the MinoError it threw (fails the test when it throws none, or another error). */
export function minoErrorOf(fn: () => unknown): MinoError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(MinoError);
  return err as MinoError;
}
