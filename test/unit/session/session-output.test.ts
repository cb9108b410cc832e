import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLinesOf, MAX_SAVED_BYTES, SessionOutputStore } from '../../../src/session/session-output.js';

let state = '';
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'mino-output-'));
});
afterEach(() => rmSync(state, { recursive: true, force: true }));

describe('SessionOutputStore', () => {
  it('saves stdout and stderr apart, privately, and reads them back', () => {
    const store = new SessionOutputStore(state);
    expect(store.read('job')).toBeUndefined();
    store.save('job', { stdout: 'hi\n', stderr: 'oops\n' });
    expect(store.read('job')).toEqual({ stdout: 'hi\n', stderr: 'oops\n' });
    expect(statSync(join(state, 'output', 'job.out')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'output')).mode & 0o777).toBe(0o700);
  });

  it('keeps the end of a stream longer than the limit', () => {
    const store = new SessionOutputStore(state);
    const long = `${'a'.repeat(MAX_SAVED_BYTES)}THE END\n`;
    store.save('big', { stdout: long, stderr: '' });
    const back = store.read('big')!.stdout;
    expect(back).toHaveLength(MAX_SAVED_BYTES);
    expect(back.endsWith('THE END\n')).toBe(true);
  });

  it('forgets a session and refuses names that are not session names', () => {
    const store = new SessionOutputStore(state);
    store.save('job', { stdout: 'x', stderr: '' });
    store.remove('job');
    store.remove('never-saved');
    expect(store.read('job')).toBeUndefined();
    expect(() => store.save('../evil', { stdout: '', stderr: '' })).toThrow(/Invalid session name/);
  });
});

describe('lastLinesOf', () => {
  it('returns the last lines, all for 0, keeping the final newline', () => {
    expect(lastLinesOf('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(lastLinesOf('a\nb\nc', 1)).toBe('c');
    expect(lastLinesOf('a\nb\n', 0)).toBe('a\nb\n');
    expect(lastLinesOf('a\n', 5)).toBe('a\n');
    expect(lastLinesOf('', 3)).toBe('');
  });
});
