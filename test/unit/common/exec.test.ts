import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MinoError } from '../../../src/common/errors.js';
import {
  CommandNotFoundError,
  execCapture,
  execInherit,
  execPipe,
  execStreaming,
  exitCodeOf,
} from '../../../src/common/exec.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mino-exec-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('exitCodeOf', () => {
  it('reports the exit code of a process that exited', () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(3, null)).toBe(3);
  });

  it('reports 128 + the signal number like a shell', () => {
    expect(exitCodeOf(null, 'SIGHUP')).toBe(129);
    expect(exitCodeOf(null, 'SIGINT')).toBe(130);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(null, 'SIGPIPE')).toBe(141);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
  });

  it('reports 1 when neither is known', () => {
    expect(exitCodeOf(null, null)).toBe(1);
  });
});

describe('execCapture', () => {
  it('captures stdout, stderr and the exit code, and does not throw for a failure', async () => {
    expect(await execCapture(['sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 7,
      signal: null,
    });
  });

  it('keeps multi-byte characters intact', async () => {
    const result = await execCapture(['printf', 'h\\303\\251llo \\342\\234\\223']);
    expect(result.stdout).toBe('héllo ✓');
  });

  it('writes the input to stdin and closes it', async () => {
    expect((await execCapture(['cat'], { input: 'héllo\nworld' })).stdout).toBe('héllo\nworld');
    expect((await execCapture(['wc', '-c'], { input: '' })).stdout.trim()).toBe('0');
  });

  it('gives the program an empty stdin when there is no input', async () => {
    expect((await execCapture(['sh', '-c', 'cat; echo done'])).stdout).toBe('done\n');
  });

  it('does not fail when the program exits without reading a large input', async () => {
    const result = await execCapture(['true'], { input: 'x'.repeat(4 * 1024 * 1024) });
    expect(result.exitCode).toBe(0);
  });

  it('runs with the environment and working directory given', async () => {
    const result = await execCapture(['sh', '-c', 'printf "%s|%s" "$MINO_X" "$(pwd)"'], {
      env: { PATH: process.env.PATH, MINO_X: 'value with spaces' },
      cwd: dir,
    });
    expect(result.stdout).toBe(`value with spaces|${dir}`);
  });

  it('gives the program exactly the environment passed, not a merge with this one', async () => {
    const result = await execCapture(['sh', '-c', 'printf "%s|%s" "${HOME-unset}" "$MINO_Y"'], {
      env: { PATH: process.env.PATH, MINO_Y: 'y' },
    });
    expect(result.stdout).toBe('unset|y');
  });

  it('passes arguments without a shell', async () => {
    expect((await execCapture(['printf', '%s\\n', '$HOME', '`id`', 'a b'])).stdout).toBe('$HOME\n`id`\na b\n');
  });

  it('reports 128 + n when a signal ends the program', async () => {
    expect(await execCapture(['sh', '-c', 'kill -TERM $$'])).toEqual({
      stdout: '',
      stderr: '',
      exitCode: 143,
      signal: 'SIGTERM',
    });
    expect(await execCapture(['sh', '-c', 'kill -KILL $$'])).toEqual({
      stdout: '',
      stderr: '',
      exitCode: 137,
      signal: 'SIGKILL',
    });
    expect((await execCapture(['sh', '-c', 'kill -INT $$'])).exitCode).toBe(130);
  });

  it('stops a program that runs past timeoutMs with SIGTERM', async () => {
    const start = Date.now();
    const result = await execCapture(['sleep', '30'], { timeoutMs: 200 });
    expect(result.exitCode).toBe(143);
    expect(result.signal).toBe('SIGTERM');
    expect(result.timedOut).toBe(true);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('says a program that was killed by a signal, not by the timeout, did not time out', async () => {
    const result = await execCapture(['sh', '-c', 'kill -TERM $$'], { timeoutMs: 10_000 });
    expect(result).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
    expect(result.timedOut).toBeUndefined();
  });

  it('kills a program that ignores SIGTERM 2 s after the timeout', async () => {
    const start = Date.now();
    const result = await execCapture(['sh', '-c', 'trap "" TERM; exec sleep 30'], { timeoutMs: 100 });
    const elapsed = Date.now() - start;
    expect(result.exitCode).toBe(137);
    expect(result.signal).toBe('SIGKILL');
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('lets a program that finishes in time keep its exit code', async () => {
    expect((await execCapture(['sh', '-c', 'exit 4'], { timeoutMs: 10_000 })).exitCode).toBe(4);
  });

  it('stops the program when the abort signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await execCapture(['sleep', '30'], { signal: controller.signal });
    expect(result.exitCode).toBe(143);
  });

  it('raises CommandNotFoundError for a program that is not installed', async () => {
    const err = await rejection(execCapture(['mino-no-such-program-xyz', '--version']));
    expect(err).toBeInstanceOf(CommandNotFoundError);
    expect(err).toBeInstanceOf(MinoError);
    const e = err as CommandNotFoundError;
    expect(e.name).toBe('CommandNotFoundError');
    expect(e.command).toBe('mino-no-such-program-xyz');
    expect(e.message).toBe("Cannot run 'mino-no-such-program-xyz': not found or not executable");
    expect(e.hint).toBe('Install mino-no-such-program-xyz or check your PATH');
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it("looks a program up on the PATH of the environment given (not this process's) before spawning", async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    writeFileSync(join(bin, 'mino-only-here'), '#!/bin/sh\necho found "$1"\n', { mode: 0o755 });
    const found = await execCapture(['mino-only-here', 'it'], { env: { PATH: `/nonexistent:${bin}` } });
    expect(found.stdout).toBe('found it\n');
    const err = await rejection(execCapture(['mino-only-here'], { env: { PATH: '/nonexistent:/usr/bin' } }));
    expect(err).toBeInstanceOf(CommandNotFoundError);
    expect(((err as CommandNotFoundError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    // A relative PATH entry is the child's working directory's business: spawned, found there.
    const rel = await execCapture(['mino-only-here', 'too'], { env: { PATH: '/nonexistent:.' }, cwd: bin });
    expect(rel.stdout).toBe('found too\n');
  });

  it('raises CommandNotFoundError for a file that is not executable', async () => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const err = await rejection(execCapture([script]));
    expect(err).toBeInstanceOf(CommandNotFoundError);
    expect((err as CommandNotFoundError).message).toBe(`Cannot run '${script}': not found or not executable`);
    expect(((err as CommandNotFoundError).cause as NodeJS.ErrnoException).code).toBe('EACCES');
  });

  it('refuses an empty command line', async () => {
    const err = await rejection(execCapture([]));
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe('Internal error: empty command line');
  });
});

describe('execInherit', () => {
  it('resolves to the exit code of the program', async () => {
    expect(await execInherit(['sh', '-c', 'exit 5'])).toBe(5);
    expect(await execInherit(['true'])).toBe(0);
  });

  it('raises CommandNotFoundError for a program that is not installed', async () => {
    expect(await rejection(execInherit(['mino-no-such-program-xyz']))).toBeInstanceOf(CommandNotFoundError);
  });

  it('says which working directory is missing, and what cannot be executed', async () => {
    const gone = await rejection(execInherit(['true'], { cwd: join(dir, 'no-such-dir') }));
    expect((gone as MinoError).message).toMatch(/working directory .*no-such-dir does not exist/);
    const script = join(dir, 'not-executable-inherit.sh');
    writeFileSync(script, '#!/bin/sh\n', { mode: 0o644 });
    const err = await rejection(execInherit([script]));
    expect(err).toBeInstanceOf(CommandNotFoundError);
    expect(((err as CommandNotFoundError).cause as NodeJS.ErrnoException).code).toBe('EACCES');
  });

  it('hands stderr chunk by chunk to onStderr, then its end, before it resolves', async () => {
    const chunks: string[] = [];
    const code = await execInherit(['sh', '-c', 'echo one >&2; echo two >&2; exit 3'], {
      onStderr: (c) => chunks.push(c.toString()),
      onStderrEnd: () => chunks.push('<end>'),
    });
    expect(code).toBe(3);
    expect(chunks.join('')).toBe('one\ntwo\n<end>');
  });

  it('stops the program at its timeout or abort (SIGTERM: 143), SIGKILL 2 s later if it ignores it', async () => {
    expect(await execInherit(['sleep', '30'], { timeoutMs: 100 })).toBe(143);
    const abort = new AbortController();
    const running = execInherit(['sleep', '30'], { signal: abort.signal, detached: true });
    abort.abort();
    expect(await running).toBe(143);
    expect(await execInherit(['sh', '-c', 'trap "" TERM; sleep 30'], { timeoutMs: 100 })).toBe(137);
  });
});

describe('execPipe', () => {
  it('feeds the output of the first program to the second', async () => {
    const { source, target } = await execPipe(['printf', 'b\\na\\n'], ['sort']);
    expect(source.exitCode).toBe(0);
    expect(target).toEqual({ stdout: 'a\nb\n', stderr: '', exitCode: 0, signal: null });
  });

  it('reports the exit code and error output of each end', async () => {
    const { source, target } = await execPipe(
      ['sh', '-c', 'echo partial; echo broken >&2; exit 2'],
      ['sh', '-c', 'cat >/dev/null; exit 3'],
    );
    expect(source).toMatchObject({ exitCode: 2, stderr: 'broken\n' });
    expect(target.exitCode).toBe(3);
  });

  it('ends when the second program stops reading early', async () => {
    const { target } = await execPipe(['sh', '-c', 'yes | head -c 10000000'], ['head', '-c', '3']);
    expect(target.stdout).toBe('y\ny');
  });

  it('raises CommandNotFoundError when either program is missing', async () => {
    expect(await rejection(execPipe(['mino-no-such-program-xyz'], ['cat']))).toBeInstanceOf(CommandNotFoundError);
    expect(await rejection(execPipe(['true'], ['mino-no-such-program-xyz']))).toBeInstanceOf(CommandNotFoundError);
  });
});

describe('execStreaming', () => {
  type Line = [string, 'stdout' | 'stderr'];

  async function stream(argv: string[]): Promise<{ lines: Line[]; exitCode: number }> {
    const lines: Line[] = [];
    const proc = execStreaming(argv, (line, s) => lines.push([line, s]));
    const result = await proc.done;
    return { lines, exitCode: result.exitCode };
  }

  it('joins a line that arrives in several chunks', async () => {
    const { lines, exitCode } = await stream([
      'sh',
      '-c',
      "printf 'hel'; sleep 0.2; printf 'lo\\nwor'; sleep 0.2; printf 'ld\\n'",
    ]);
    expect(lines).toEqual([
      ['hello', 'stdout'],
      ['world', 'stdout'],
    ]);
    expect(exitCode).toBe(0);
  });

  it('delivers a last line that has no newline when the program exits', async () => {
    const { lines } = await stream(['sh', '-c', "printf 'one\\ntwo'"]);
    expect(lines).toEqual([
      ['one', 'stdout'],
      ['two', 'stdout'],
    ]);
  });

  it('tells stdout and stderr lines apart, in arrival order', async () => {
    const { lines, exitCode } = await stream(['sh', '-c', 'echo a; sleep 0.2; echo b >&2; sleep 0.2; echo c; exit 3']);
    expect(lines).toEqual([
      ['a', 'stdout'],
      ['b', 'stderr'],
      ['c', 'stdout'],
    ]);
    expect(exitCode).toBe(3);
  });

  it('strips the carriage return of CRLF lines and keeps empty lines', async () => {
    const { lines } = await stream(['sh', '-c', "printf 'a\\r\\n\\nb\\r\\n'"]);
    expect(lines).toEqual([
      ['a', 'stdout'],
      ['', 'stdout'],
      ['b', 'stdout'],
    ]);
  });

  it('resolves with empty output and the exit code, since output went to onLine', async () => {
    const proc = execStreaming(['sh', '-c', 'echo x; exit 2'], () => undefined);
    expect(await proc.done).toEqual({ stdout: '', stderr: '', exitCode: 2, signal: null });
  });

  it('can be killed', async () => {
    const proc = execStreaming(['sleep', '30'], () => undefined);
    setTimeout(() => proc.kill(), 100);
    expect(await proc.done).toEqual({ stdout: '', stderr: '', exitCode: 143, signal: 'SIGTERM' });
  });

  it('stops the program after timeoutMs', async () => {
    const proc = execStreaming(['sleep', '30'], () => undefined, { timeoutMs: 100 });
    expect((await proc.done).exitCode).toBe(143);
  });

  it('rejects with CommandNotFoundError for a program that is not installed', async () => {
    const proc = execStreaming(['mino-no-such-program-xyz'], () => undefined);
    expect(await rejection(proc.done)).toBeInstanceOf(CommandNotFoundError);
  });
});

describe('exec edge cases', () => {
  it('reports 128 + the real signal number for any signal', async () => {
    const segv = await execCapture(['sh', '-c', 'kill -SEGV $$']);
    expect(segv).toMatchObject({ exitCode: 139, signal: 'SIGSEGV' });
    expect(exitCodeOf(null, 'SIGUSR1')).toBe(138);
  });

  it('keeps a UTF-8 character split across two output chunks whole', async () => {
    const lines: string[] = [];
    const proc = execStreaming(['sh', '-c', "printf '\\303'; sleep 0.2; printf '\\251t\\n'"], (l) => lines.push(l));
    await proc.done;
    expect(lines).toEqual(['ét']);
  });

  it('blames a missing working directory, not the program', async () => {
    const err = await rejection(execCapture(['true'], { cwd: join(dir, 'does-not-exist') }));
    expect(err).not.toBeInstanceOf(CommandNotFoundError);
    expect((err as MinoError).message).toMatch(/working directory .* does not exist/);
  });
});
