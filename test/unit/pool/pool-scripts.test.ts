import { describe, expect, it } from 'vitest';
import { EXEC_WRAPPER_SCRIPT } from '../../../src/pool/pool-scripts.js';
import { onPty } from '../../helpers/terminal.js';

describe('the exec wrapper of a warm container', () => {
  it('waits for its terminal to get a size before the command starts (podman exec -t sizes it late)', async () => {
    // A 0×0 terminal, as `podman exec -t` gives the command at first; sized 150 ms later.
    const t = onPty(['sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino', 'stty', 'size'], null);
    await new Promise((r) => setTimeout(r, 150));
    t.resize(31, 101);
    expect(await t.exited, t.output()).toBe(0);
    expect(t.output().replace(/\r/g, '')).toBe('31 101\n');
  });

  it('gives up waiting after half a second: a terminal that never gets a size does not stop the command', async () => {
    const started = Date.now();
    const t = onPty(['sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino', 'sh', '-c', 'echo ran'], null);
    expect(await t.exited, t.output()).toBe(0);
    expect(t.output()).toContain('ran');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('still exits 127 for a command the image lacks, with mino message', async () => {
    const t = onPty(['sh', '-c', EXEC_WRAPPER_SCRIPT, 'mino', 'no-such-command-here'], { rows: 24, cols: 80 });
    expect(await t.exited).toBe(127);
    expect(t.output()).toContain('Error: command not found in the image: no-such-command-here');
  });
});
