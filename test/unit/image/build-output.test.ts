import { describe, expect, it } from 'vitest';
import { OutputTail, parseBuildLine } from '../../../src/image/build-output.js';

describe('podman build output', () => {
  it('reads STEP n/m lines', () => {
    expect(parseBuildLine('STEP 3/8: RUN chmod +x /tmp/install-a.sh && /tmp/install-a.sh')).toEqual({
      type: 'step',
      step: 3,
      total: 8,
      text: 'RUN chmod +x /tmp/install-a.sh && /tmp/install-a.sh',
    });
  });

  it.each([
    '--> 8566dd808c7',
    '--> Using cache 1234',
    'COMMIT localhost/mino-composed-abc:latest',
    'Successfully tagged localhost/x:latest',
    'Removing intermediate container 123',
    '2d750bf2e7c8aa1bbb6853befb00315617a633fb10692be9d2090e085fd8e1d2',
  ])('drops bookkeeping: %s', (line) => {
    expect(parseBuildLine(line)).toBeUndefined();
  });

  it('passes the build’s own output through', () => {
    expect(parseBuildLine('Setting up python3 (3.11.2-1+b1) ...')).toEqual({
      type: 'output',
      line: 'Setting up python3 (3.11.2-1+b1) ...',
    });
  });

  it('keeps the last 50 lines for errors', () => {
    const tail = new OutputTail(50);
    for (let i = 1; i <= 120; i++) tail.push(`line ${i}`);
    const lines = tail.text().split('\n');
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe('line 71');
    expect(lines[49]).toBe('line 120');
  });
});
