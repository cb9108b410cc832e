import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Options, Result, ResultPromise } from 'execa';
import { MinoError } from './errors.js';
import { argvHead, traceSpan, type TraceEnd } from './trace.js';

/**
 * Process helpers on execa. Programs are always started from an argument array, never through a
 * shell. Every helper reports a signal death as 128 + n (as a shell does), turns "cannot start"
 * into {@link CommandNotFoundError}, and never throws for a non-zero exit: callers decide.
 *
 * execa is loaded on the first process mino starts, not when mino starts: its module code
 * (stream and child_process builtins, signal tables, references to process.stdin/stdout/stderr)
 * costs tens of milliseconds that `mino --help`, `mino list` or `mino config` never need, and a
 * startup snapshot must not capture those stdio objects. The bundle inlines the import (no
 * dynamic `import(` is left in dist/mino.cjs).
 */

let execaModule: Promise<typeof import('execa')> | undefined;

/** execa, loaded once on first use. */
function loadExeca(): Promise<typeof import('execa')> {
  execaModule ??= import('execa');
  return execaModule;
}

/** Result of a finished process whose output was captured. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code, or 128 + signal number when a signal ended it. */
  exitCode: number;
  /** The signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  /** True when `timeoutMs` ran out and mino stopped the process (known from the kill, not a clock). */
  timedOut?: boolean;
}

/** Options shared by the helpers. */
export interface ExecOptions {
  /** Text written to stdin, which is then closed. Without it stdin is empty (`ignore`). */
  input?: string;
  /** The whole environment of the process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process (SIGTERM, then SIGKILL after 2 s) after this many milliseconds. */
  timeoutMs?: number;
  /** Kill the process (SIGTERM, then SIGKILL after 2 s) when aborted. */
  signal?: AbortSignal;
}

/** Raised when the program itself cannot be started (not installed, not executable). */
export class CommandNotFoundError extends MinoError {
  constructor(
    readonly command: string,
    cause: unknown,
  ) {
    super(`Cannot run '${command}': not found or not executable`, {
      hint: `Install ${command} or check your PATH`,
      cause,
    });
    this.name = 'CommandNotFoundError';
  }
}

/** Milliseconds between SIGTERM and SIGKILL when a timeout or an abort stops a process. */
const KILL_GRACE_MS = 2000;

/** Most characters kept of one captured stream (far beyond any podman answer mino reads). */
const MAX_CAPTURE = 256 * 1024 * 1024;

/** Exit code a shell would report for a process that ended with `code` or `signal` (128 + n). */
export function exitCodeOf(code: number | null | undefined, signal: NodeJS.Signals | null | undefined): number {
  if (typeof code === 'number') return code;
  if (signal) return 128 + (osConstants.signals[signal] ?? 1);
  return 1;
}

/** The program and its arguments; an empty command line is a bug of the caller. */
function split(argv: readonly string[]): [string, string[]] {
  const [file, ...args] = argv;
  if (!file) throw new MinoError('Internal error: empty command line');
  return [file, args];
}

/** execa options shared by every helper: mino's defaults, not execa's. */
function baseOptions(options: Omit<ExecOptions, 'input'>): Options {
  return {
    // `env` is the whole environment, as with child_process (execa would merge it into ours).
    env: options.env,
    extendEnv: options.env === undefined,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    forceKillAfterDelay: KILL_GRACE_MS,
    reject: false,
    shell: false,
    stripFinalNewline: false,
    maxBuffer: MAX_CAPTURE,
    // No exit hook killing children: `mino run` leaves a detached podman alone on purpose.
    cleanup: false,
  };
}

/**
 * Stops the process (SIGTERM, SIGKILL after the grace time) as soon as `signal` aborts. The kill
 * happens inside the abort, not a tick later (execa's own `cancelSignal` is asynchronous): a
 * caller that aborts and then exits must not leave the child running.
 */
function killOnAbort(child: ResultPromise, signal: AbortSignal | undefined): void {
  if (!signal) return;
  const kill = (): void => void child.kill('SIGTERM');
  if (signal.aborted) {
    kill();
    return;
  }
  signal.addEventListener('abort', kill, { once: true });
  const forget = (): void => signal.removeEventListener('abort', kill);
  child.then(forget, forget);
}

/**
 * The error of a process that could not start (or whose streams broke), or undefined when it ran
 * and ended with an exit code or a signal.
 */
function startError(argv: readonly string[], options: { cwd?: string }, result: Result): Error | undefined {
  if (!result.failed || result.exitCode !== undefined || result.signal !== undefined) return undefined;
  const cause = result.cause ?? result;
  const code = (cause as NodeJS.ErrnoException).code ?? result.code;
  if (code === 'ENOENT' && options.cwd !== undefined && !existsSync(options.cwd)) {
    return new MinoError(`Cannot run '${argv[0] ?? ''}': working directory ${options.cwd} does not exist`, { cause });
  }
  if (code === 'ENOENT' || code === 'EACCES') return new CommandNotFoundError(argv[0] ?? '', cause);
  return new MinoError(`Running '${argv[0] ?? ''}' failed: ${result.shortMessage}`, { cause });
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The ExecResult of a finished execa process, or the error of one that never ran. */
function toExecResult(argv: readonly string[], options: { cwd?: string }, result: Result): ExecResult {
  if (result.isMaxBuffer) {
    throw new MinoError(`Output of '${argv[0] ?? ''}' exceeded ${MAX_CAPTURE / 1024 / 1024} MB; it was stopped`, {
      cause: result.cause,
    });
  }
  const error = startError(argv, options, result);
  if (error) throw error;
  const signal = (result.signal ?? null) as NodeJS.Signals | null;
  return {
    stdout: text(result.stdout),
    stderr: text(result.stderr),
    exitCode: exitCodeOf(result.exitCode, signal),
    signal,
    ...(result.timedOut ? { timedOut: true } : {}),
  };
}

/** Ends a process's trace span with its exit code; returns the result. */
function traced(end: TraceEnd, result: () => ExecResult): ExecResult {
  try {
    const r = result();
    end(`exit ${r.exitCode}`);
    return r;
  } catch (err) {
    end(`failed: ${err instanceof Error ? err.message : String(err)}`);
    throw err;
  }
}

/**
 * The error of a program named without a directory that no directory of `PATH` (the one the
 * process gets) holds, or undefined when one might: found in a few stat calls, it spares loading
 * execa and a failing spawn (a credential provider's CLI that is not installed, on every run).
 * Without PATH the system's default directories count, as for execvp(3).
 */
function missingFromPath(file: string, env: NodeJS.ProcessEnv | undefined): CommandNotFoundError | undefined {
  if (file.includes('/')) return undefined;
  const path = (env ?? process.env).PATH ?? '/usr/bin:/bin';
  for (const dir of path.split(delimiter)) {
    // A relative directory (or an empty entry: the working directory) is the child's to resolve.
    if (!dir.startsWith('/') || existsSync(join(dir, file))) return undefined;
  }
  const cause = Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT', path: file });
  return new CommandNotFoundError(file, cause);
}

/** Runs a program to completion, capturing stdout and stderr. Never throws for a non-zero exit. */
export async function execCapture(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [file, args] = split(argv);
  const end = traceSpan('exec', argvHead(argv));
  const missing = missingFromPath(file, options.env);
  if (missing) {
    end(`failed: ${missing.message}`);
    throw missing;
  }
  const { execa } = await loadExeca();
  const child = execa(file, args, {
    ...baseOptions(options),
    ...(options.input === undefined ? { stdin: 'ignore' } : { input: options.input }),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  killOnAbort(child, options.signal);
  return traced(end, toExecResult.bind(null, argv, options, await child));
}

/** The error of a process that could not be started (`err` from child_process's spawn). */
function spawnError(argv: readonly string[], cwd: string | undefined, err: NodeJS.ErrnoException): Error {
  const file = argv[0] ?? '';
  if (err.code === 'ENOENT' && cwd !== undefined && !existsSync(cwd)) {
    return new MinoError(`Cannot run '${file}': working directory ${cwd} does not exist`, { cause: err });
  }
  if (err.code === 'ENOENT' || err.code === 'EACCES') return new CommandNotFoundError(file, err);
  return new MinoError(`Running '${file}' failed: ${err.message}`, { cause: err });
}

/**
 * Runs a program attached to this process's stdin, stdout and stderr; resolves to its exit code.
 * With `detached`, it runs in a process group of its own: a Ctrl-C on the terminal reaches this
 * process only, which decides what the program gets. With `onStderr`, its stderr is a pipe whose
 * chunks go to `onStderr` as they come (and `onStderrEnd` at its end); with `onStdout`, its stdout
 * likewise (the exit code comes after both ended). Plain child_process, not
 * execa: this is how `mino run` starts podman, and execa's load (~15 ms of CPU) would come first.
 */
export function execInherit(
  argv: readonly string[],
  options: Omit<ExecOptions, 'input'> & {
    detached?: boolean;
    onStdout?: (chunk: Buffer) => void;
    onStderr?: (chunk: Buffer) => void;
    onStderrEnd?: () => void;
  } = {},
): Promise<number> {
  const [file, args] = split(argv);
  const end = traceSpan('exec attached', argvHead(argv));
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let timeoutTimer: NodeJS.Timeout | undefined;
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      // With `onStderr` (`onStdout`), stderr (stdout) comes through this process (nothing is kept): the caller writes it on.
      stdio: ['inherit', options.onStdout ? 'pipe' : 'inherit', options.onStderr ? 'pipe' : 'inherit'],
      detached: options.detached ?? false,
    });
    // SIGTERM, then SIGKILL after the grace time (a timeout or an abort).
    const stop = (): void => {
      if (settled || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const done = (): void => {
      settled = true;
      clearTimeout(killTimer);
      clearTimeout(timeoutTimer);
      options.signal?.removeEventListener('abort', stop);
    };
    if (options.timeoutMs !== undefined) timeoutTimer = setTimeout(stop, options.timeoutMs);
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
    if (options.onStdout) child.stdout?.on('data', options.onStdout);
    if (options.onStderr) {
      child.stderr?.on('data', options.onStderr);
      child.stderr?.on('end', () => options.onStderrEnd?.());
    }
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      done();
      const error = spawnError(argv, options.cwd, err);
      end(`failed: ${error.message}`);
      reject(error);
    });
    // After the exit and the end of the piped stderr.
    child.on('close', (code, signal) => {
      if (settled) return;
      done();
      const exitCode = exitCodeOf(code, signal);
      end(`exit ${exitCode}`);
      resolve(exitCode);
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
 * (interleaved in arrival order; `stream` says which one). A carriage return before the newline
 * is dropped; a last line without a newline is delivered when the program exits.
 */
export function execStreaming(
  argv: readonly string[],
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  options: Omit<ExecOptions, 'input'> = {},
): StreamingProcess {
  const [file, args] = split(argv);
  const end = traceSpan('exec streaming', argvHead(argv));
  let child: ResultPromise | undefined;
  let killWith: NodeJS.Signals | undefined;
  const done = loadExeca().then(async ({ execa }) => {
    // execa splits the output into lines (keeping multi-byte characters whole); these generators
    // hand each line on and keep nothing (a transform that yields nothing drops the line).
    child = execa(file, args, {
      ...baseOptions(options),
      stdin: 'ignore',
      // biome-ignore lint/correctness/useYield: an execa line transform; yielding nothing keeps nothing
      stdout: function* (line: unknown) {
        onLine(String(line).replace(/\r$/, ''), 'stdout');
      },
      // biome-ignore lint/correctness/useYield: as stdout
      stderr: function* (line: unknown) {
        onLine(String(line).replace(/\r$/, ''), 'stderr');
      },
      buffer: false,
    });
    killOnAbort(child, options.signal);
    // kill() before execa was loaded: deliver it now.
    if (killWith) child.kill(killWith);
    return { ...traced(end, toExecResult.bind(null, argv, options, await child)), stdout: '', stderr: '' };
  });
  return {
    done,
    kill: (signal = 'SIGTERM') => {
      if (child) child.kill(signal);
      else killWith = signal;
    },
  };
}

/** Results of both ends of a pipe. */
export interface PipeResult {
  source: ExecResult;
  target: ExecResult;
}

/**
 * Runs `source | target`: the stdout of the first program feeds the stdin of the second, without
 * a shell. Both are captured; neither throws for a non-zero exit.
 */
export async function execPipe(
  source: readonly string[],
  target: readonly string[],
  options: Omit<ExecOptions, 'input'> = {},
): Promise<PipeResult> {
  const [sourceFile, sourceArgs] = split(source);
  const [targetFile, targetArgs] = split(target);
  const end = traceSpan('exec pipe', `${argvHead(source)} | ${argvHead(target)}`);
  const { execa } = await loadExeca();
  const from = execa(sourceFile, sourceArgs, { ...baseOptions(options), stdin: 'ignore', stderr: 'pipe' });
  const to = execa(targetFile, targetArgs, { ...baseOptions(options), stdout: 'pipe', stderr: 'pipe' });
  killOnAbort(from, options.signal);
  killOnAbort(to, options.signal);
  // Both processes are awaited, so an early exit of either never leaves the other behind.
  const [, sourceResult, targetResult] = await Promise.all([from.pipe(to).catch(() => undefined), from, to]);
  end(`exit ${String(sourceResult.exitCode)} | ${String(targetResult.exitCode)}`);
  return {
    source: toExecResult(source, options, sourceResult),
    target: toExecResult(target, options, targetResult),
  };
}

/**
 * Runs a program with binary streams: `input` (chunks, e.g. an archive being written) is its
 * stdin, and each chunk of its stdout goes to `onStdout` (awaited: a slow consumer slows the
 * program down). stderr is captured (and each chunk also goes to `onStderr`); the result's stdout
 * is empty.
 */
export async function execStream(
  argv: readonly string[],
  options: Omit<ExecOptions, 'input'> & {
    input?: AsyncIterable<Uint8Array>;
    onStdout?: (chunk: Buffer) => void | Promise<void>;
    onStderr?: (chunk: Buffer) => void;
  } = {},
): Promise<ExecResult> {
  const [file, args] = split(argv);
  const end = traceSpan('exec streamed', argvHead(argv));
  const { execa } = await loadExeca();
  const child = execa(file, args, {
    ...baseOptions(options),
    stdin: options.input ? 'pipe' : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    encoding: 'buffer',
    buffer: { stdout: false, stderr: true },
  });
  killOnAbort(child, options.signal);
  const { onStderr } = options;
  if (onStderr) child.stderr?.on('data', (chunk: Buffer) => onStderr(chunk));
  const feed = (async () => {
    const stdin = child.stdin;
    if (!options.input || !stdin) return;
    stdin.on('error', () => undefined); // the program may exit before it read everything
    // Small chunks (an archive of many small files) are written in batches of about 1 MB: a pipe
    // write per chunk makes the reader (podman's remote attach) crawl.
    let batch: Uint8Array[] = [];
    let size = 0;
    const flush = async (): Promise<void> => {
      if (size === 0) return;
      const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch);
      batch = [];
      size = 0;
      if (!stdin.write(data)) await new Promise((r) => stdin.once('drain', r));
    };
    try {
      for await (const chunk of options.input) {
        batch.push(chunk);
        size += chunk.length;
        if (size >= 1 << 20) await flush();
        if (stdin.destroyed) break;
      }
      await flush();
    } finally {
      stdin.end();
    }
  })();
  const drain = (async () => {
    const stdout = child.stdout;
    if (!stdout) return;
    for await (const chunk of stdout) await options.onStdout?.(chunk as Buffer);
  })();
  const [result] = await Promise.all([child, feed, drain]);
  end(`exit ${String(result.exitCode)}`);
  const stderr =
    result.stderr instanceof Uint8Array ? Buffer.from(result.stderr).toString('utf8') : text(result.stderr);
  return { ...toExecResult(argv, options, result), stdout: '', stderr };
}
