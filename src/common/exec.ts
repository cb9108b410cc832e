import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { MinoError } from './errors.js';

/**
 * Process helpers on node:child_process. Programs are always started from an argument array,
 * never through a shell. (execa was the first choice, but it adds ~160 ms of module loading to
 * every mino start on a 2-core machine; these few functions cover what mino needs.)
 */

/** Result of a finished process whose output was captured. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or 128 + signal number when a signal ended it. */
  exitCode: number;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
}

/** Options shared by the helpers. */
export interface ExecOptions {
  /** Text written to stdin, which is then closed. Without it stdin is empty (`ignore`). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process (SIGTERM, then SIGKILL after 2 s) after this many milliseconds. */
  timeoutMs?: number;
  /** Kill the process when aborted. */
  signal?: AbortSignal;
}

/** Raised when the program itself cannot be started (not installed, not executable). */
export class CommandNotFoundError extends MinoError {
  constructor(readonly command: string, cause: unknown) {
    super(`Cannot run '${command}': not found or not executable`, {
      hint: `Install ${command} or check your PATH`,
      cause,
    });
    this.name = 'CommandNotFoundError';
  }
}

/** Exit code a shell would report for a process that ended with `code` or `signal` (128 + n). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (typeof code === 'number') return code;
  if (signal) return 128 + (osConstants.signals[signal] ?? 1);
  return 1;
}

function startError(argv: readonly string[], options: { cwd?: string }, e: NodeJS.ErrnoException): Error {
  if (e.code === 'ENOENT' && options.cwd !== undefined && !existsSync(options.cwd)) {
    return new MinoError(`Cannot run '${argv[0] ?? ''}': working directory ${options.cwd} does not exist`, { cause: e });
  }
  return e.code === 'ENOENT' || e.code === 'EACCES' ? new CommandNotFoundError(argv[0] ?? '', e) : e;
}

function spawnChecked(argv: readonly string[], options: SpawnOptions): ReturnType<typeof spawn> {
  const [file, ...args] = argv;
  if (!file) throw new MinoError('Internal error: empty command line');
  return spawn(file, args, { ...options, shell: false });
}

function attachTimeout(child: ReturnType<typeof spawn>, options: ExecOptions): () => void {
  const timers: NodeJS.Timeout[] = [];
  const kill = (): void => {
    child.kill('SIGTERM');
    timers.push(setTimeout(() => child.kill('SIGKILL'), 2000).unref());
  };
  if (options.timeoutMs !== undefined) timers.push(setTimeout(kill, options.timeoutMs));
  const onAbort = (): void => kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    for (const t of timers) clearTimeout(t);
    options.signal?.removeEventListener('abort', onAbort);
  };
}

/** Runs a program to completion, capturing stdout and stderr. Never throws for a non-zero exit. */
export function execCapture(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawnChecked(argv, {
        env: options.env,
        cwd: options.cwd,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      reject(err);
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const cleanup = attachTimeout(child, options);
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(startError(argv, options, e));
    });
    child.on('close', (code, signal) => {
      cleanup();
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: exitCodeOf(code, signal),
        signal,
      });
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit without reading
      child.stdin.end(options.input);
    }
  });
}

/** Runs a program attached to this process's stdin, stdout and stderr; resolves to its exit code. */
export function execInherit(argv: readonly string[], options: Omit<ExecOptions, 'input'> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawnChecked(argv, { env: options.env, cwd: options.cwd, stdio: 'inherit' });
    } catch (err) {
      reject(err);
      return;
    }
    const cleanup = attachTimeout(child, options);
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      reject(startError(argv, options, e));
    });
    child.on('close', (code, signal) => {
      cleanup();
      resolve(exitCodeOf(code, signal));
    });
  });
}

/** A running process whose output arrives line by line. */
export interface StreamingProcess {
  /** Settles when the process has exited, with its captured result (stdout/stderr empty). */
  done: Promise<ExecResult>;
  /** Sends a signal to the process. */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts a program and calls `onLine` for each line of stdout and stderr as it arrives
 * (interleaved in arrival order; `stream` says which one).
 */
export function execStreaming(
  argv: readonly string[],
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  options: Omit<ExecOptions, 'input'> = {},
): StreamingProcess {
  const child = spawnChecked(argv, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const split = (stream: 'stdout' | 'stderr') => {
    let rest = '';
    // A decoder keeps a multi-byte character split across two chunks whole.
    const decoder = new StringDecoder('utf8');
    return {
      data(b: Buffer): void {
        rest += decoder.write(b);
        let nl = rest.indexOf('\n');
        while (nl >= 0) {
          onLine(rest.slice(0, nl).replace(/\r$/, ''), stream);
          rest = rest.slice(nl + 1);
          nl = rest.indexOf('\n');
        }
      },
      end(): void {
        rest += decoder.end();
        if (rest.length > 0) onLine(rest, stream);
        rest = '';
      },
    };
  };
  const o = split('stdout');
  const e = split('stderr');
  child.stdout?.on('data', o.data);
  child.stderr?.on('data', e.data);
  const cleanup = attachTimeout(child, options);
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(startError(argv, options, err));
    });
    child.on('close', (code, signal) => {
      cleanup();
      o.end();
      e.end();
      resolve({ stdout: '', stderr: '', exitCode: exitCodeOf(code, signal), signal });
    });
  });
  return { done, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}
