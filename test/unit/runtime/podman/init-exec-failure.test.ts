import { describe, expect, it } from 'vitest';
import { InitExecFailureScanner, initExecFailure } from '../../../../src/runtime/podman/init-exec-failure.js';

function scan(chunks: string[]): { out: string; reason: string | undefined } {
  let out = '';
  const s = new InitExecFailureScanner((c) => (out += c.toString()));
  for (const c of chunks) s.push(Buffer.from(c));
  s.end();
  return { out, reason: s.reason };
}

describe('catatonit exec failures (podman --init)', () => {
  it("takes catatonit's line off the stream and keeps its reason, in one chunk or split", () => {
    expect(scan(['ERROR (catatonit:6): failed to exec pid1: No such file or directory\n'])).toEqual({
      out: '',
      reason: 'No such file or directory',
    });
    expect(scan(['ERR', 'OR (catatonit:12): failed to ', 'exec pid1: Permission denied\nmore\n'])).toEqual({
      out: 'more\n',
      reason: 'Permission denied',
    });
  });

  it('passes any other stderr through untouched, holding back no more than the prefix', () => {
    let out = '';
    const s = new InitExecFailureScanner((c) => (out += c.toString()));
    s.push(Buffer.from('E'));
    expect(out).toBe('');
    s.push(Buffer.from('rror: mine'));
    expect(out).toBe('Error: mine');
    s.push(Buffer.from('ERROR (catatonit:6): failed to exec pid1: x\n'));
    expect(out).toBe('Error: mineERROR (catatonit:6): failed to exec pid1: x\n');
    expect(s.reason).toBeUndefined();
    expect(scan(['ERROR (catatonit:6): something else\n'])).toEqual({
      out: 'ERROR (catatonit:6): something else\n',
      reason: undefined,
    });
    expect(scan(['ERROR (catata'])).toEqual({ out: 'ERROR (catata', reason: undefined });
  });

  it("maps the reason to a shell's exit code and mino's message", () => {
    expect(initExecFailure('no-such-tool', 'No such file or directory')).toEqual({
      exitCode: 127,
      message:
        "Error: command not found in the image: no-such-tool\nHint: check its name and the image's PATH; install it with a layer (mino layers list)\n",
    });
    expect(initExecFailure('/no/such', 'No such file or directory').message).toBe(
      'Error: command not found in the image: /no/such\nHint: check the path; mino run -- ls -l /no/ shows what is there\n',
    );
    expect(initExecFailure('/etc', 'Permission denied')).toMatchObject({
      exitCode: 126,
      message: expect.stringMatching(/^Error: command is not executable in the image: \/etc\n/),
    });
  });
});
