import { afterEach, describe, expect, it, vi } from 'vitest';
import { selfArgv } from '../../../src/common/self-argv.js';

const argv = process.argv;
const execArgv = process.execArgv;

afterEach(() => {
  process.argv = argv;
  process.execArgv = execArgv;
  vi.restoreAllMocks();
});

describe('selfArgv', () => {
  it('is Node with its own flags and the script when mino runs as a script', () => {
    process.argv = [process.execPath, '/opt/mino/bin/mino', 'run'];
    process.execArgv = ['--enable-source-maps'];
    expect(selfArgv()).toEqual([process.execPath, '--enable-source-maps', '/opt/mino/bin/mino']);
  });

  it('is the executable alone without a script', () => {
    process.argv = [process.execPath];
    expect(selfArgv()).toEqual([process.execPath]);
  });

  it('is the executable alone in the single executable', () => {
    const builtin = process.getBuiltinModule;
    vi.spyOn(process, 'getBuiltinModule').mockImplementation(((id: string) =>
      id === 'node:sea' ? { isSea: () => true } : builtin(id)) as typeof process.getBuiltinModule);
    process.argv = [process.execPath, process.execPath, 'run'];
    expect(selfArgv()).toEqual([process.execPath]);
  });
});
