import { describe, expect, it } from 'vitest';
import { spawnDetached } from '../../../src/common/spawn-detached.js';

describe('spawnDetached', () => {
  it('starts the program and returns its PID', () => {
    expect(spawnDetached(['/bin/true'])).toBeGreaterThan(0);
  });

  it('returns no PID for a program that cannot start, and does not throw', () => {
    expect(spawnDetached(['/nonexistent/mino-test-program'])).toBeUndefined();
  });

  it('refuses an empty argv', () => {
    expect(() => spawnDetached([])).toThrow('empty argv');
  });
});
