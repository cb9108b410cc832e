import { describe, expect, it } from 'vitest';
import { parseLogTimestamp } from '../../../../src/runtime/podman/podman-runtime.js';

describe('parseLogTimestamp (podman logs --timestamps)', () => {
  it('takes the newest entry of stdout and stderr, nanoseconds cut to milliseconds', () => {
    const text = '2026-12-02T06:18:49.572750311Z tick 2\r\n\n2026-12-02T06:18:51.1Z oops\n';
    expect(parseLogTimestamp(text)?.toISOString()).toBe('2026-12-02T06:18:51.100Z');
  });

  it('reads offsets and whole seconds', () => {
    expect(parseLogTimestamp('2026-12-02T08:00:00+02:00 hi\n')?.toISOString()).toBe('2026-12-02T06:00:00.000Z');
  });

  it('undefined when the container printed nothing', () => {
    expect(parseLogTimestamp('')).toBeUndefined();
    expect(parseLogTimestamp('\n\n')).toBeUndefined();
    expect(parseLogTimestamp('not a log line\n')).toBeUndefined();
  });
});
