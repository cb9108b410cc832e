import { describe, expect, it } from 'vitest';
import { buildProgress } from '../../../src/cli/build-progress.js';

describe('build progress', () => {
  function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
    let text = '';
    const stream = {
      isTTY,
      columns: 60,
      write: (s: string) => {
        text += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    return { stream, text: () => text };
  }

  it('prints only STEP lines when not on a terminal', () => {
    const s = sink(false);
    const p = buildProgress(s.stream);
    for (const line of ['STEP 1/3: FROM x', 'Get:1 http://m bookworm InRelease', 'STEP 2/3: RUN true', ''])
      p.line(line);
    p.end();
    expect(s.text()).toBe('  STEP 1/3: FROM x\n  STEP 2/3: RUN true\n');
  });

  it('on a terminal also shows the latest line in place and clears it', () => {
    const s = sink(true);
    const p = buildProgress(s.stream);
    p.line('STEP 1/2: RUN x');
    p.line('Unpacking nodejs ...');
    p.line('STEP 2/2: USER developer');
    p.end();
    expect(s.text()).toBe('  STEP 1/2: RUN x\n  Unpacking nodejs ...\r\u001b[2K  STEP 2/2: USER developer\n');
  });
});

describe('build progress events', () => {
  it('prints step events and hides podman bookkeeping lines', () => {
    let text = '';
    const stream = {
      isTTY: false,
      write: (s: string) => {
        text += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const p = buildProgress(stream);
    p.event({ type: 'step', step: 1, total: 2, text: 'FROM base' });
    p.line('--> 1234abcd');
    p.line('COMMIT localhost/x');
    p.event({ type: 'output', line: 'hello' });
    p.end();
    expect(text).toBe('  STEP 1/2: FROM base\n');
  });
});
