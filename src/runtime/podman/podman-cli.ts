import {
  execCapture,
  execInherit,
  execPipe,
  execStream,
  execStreaming,
  type ExecResult,
  type PipeResult,
  type StreamingProcess,
} from '../../common/exec.js';
import { log } from '../../common/logger.js';
import { redactArgs } from '../../common/redact.js';
import type { Host } from '../../host/host.js';
import type { RemoteEndpoint, StoreLocation } from '../container-runtime.js';
import { validateMountPath } from '../validate.js';
import { isNotFound, podmanError } from './podman-error.js';

/**
 * The podman command line of one engine: podman on a {@link Host} (this machine, another user,
 * an OrbStack VM), optionally on another image store. Every podman process mino starts is
 * started here, so the store flags, logging and error handling are the same for all of them.
 */

/** Exit code of coreutils `timeout` when the time ran out. */
const TIMEOUT_EXIT = 124;

/** Global podman flags that select `store` (empty for the default store). */
export function storeArgs(store: StoreLocation | undefined): string[] {
  if (!store) return [];
  if (!/^[a-z0-9_]+$/.test(store.driver))
    throw podmanError(['--storage-driver'], 1, `invalid storage driver ${store.driver}`);
  return [
    '--root',
    validateMountPath('source', store.graphRoot),
    '--runroot',
    validateMountPath('source', store.runRoot),
    ...(store.tmpDir === undefined ? [] : ['--tmpdir', validateMountPath('source', store.tmpDir)]),
    '--storage-driver',
    store.driver,
  ];
}

/**
 * Global podman flags of podman's remote client for `endpoint` (empty for the local engine):
 * `--remote --url URL [--identity KEY]`. The URL and key path are checked here once more.
 */
export function remoteArgs(endpoint: RemoteEndpoint | undefined): string[] {
  if (!endpoint) return [];
  if (!/^(ssh|unix):\/\/[A-Za-z0-9@._:/+[\]-]+$/.test(endpoint.url))
    throw podmanError(['--url'], 1, `invalid engine URL ${endpoint.url}`);
  const identity =
    endpoint.identity === undefined ? [] : ['--identity', validateMountPath('source', endpoint.identity)];
  return ['--remote', '--url', endpoint.url, ...identity];
}

/** Runs podman on one host and store. */
export class PodmanCli {
  private global: readonly string[];
  private ready: Promise<void> | undefined;

  /**
   * @param prepare runs once before the first podman process (a remote engine's connection, which
   *   may {@link useEndpoint} another address)
   */
  constructor(
    readonly host: Host,
    readonly store: StoreLocation | undefined,
    readonly remote?: RemoteEndpoint,
    private readonly prepare?: (cli: PodmanCli) => Promise<void>,
  ) {
    this.global = [...remoteArgs(remote), ...storeArgs(store)];
  }

  /** Talks to `endpoint` from now on (e.g. the local end of an ssh tunnel to the same engine). */
  useEndpoint(endpoint: RemoteEndpoint): void {
    this.global = [...remoteArgs(endpoint), ...storeArgs(this.store)];
  }

  /** Waits for {@link prepare} (once). */
  private async before(): Promise<void> {
    if (!this.prepare) return;
    this.ready ??= this.prepare(this);
    await this.ready;
  }

  /** argv (on the host) of `podman <global flags> <args>`. */
  hostArgv(args: readonly string[]): string[] {
    return ['podman', ...this.global, ...args];
  }

  /** Runs podman and captures its output; never throws for a non-zero exit. */
  async capture(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    await this.before();
    log.debug('podman', { args: redactArgs(args) });
    const { argv, env } = this.host.command(this.hostArgv(args));
    const result = await execCapture(argv, { env, timeoutMs: options.timeoutMs });
    log.trace('podman done', { exitCode: result.exitCode, stderr: result.stderr.slice(0, 2000) });
    return result;
  }

  /**
   * Like {@link capture}, but podman is stopped after `timeoutMs`. The limit is kept on the
   * podman host (coreutils `timeout`), so podman in a VM stops too; a local limit backs it up.
   */
  async captureWithin(args: readonly string[], timeoutMs: number): Promise<ExecResult & { timedOut: boolean }> {
    await this.before();
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    log.debug('podman', { args: redactArgs(args), timeoutSeconds: seconds });
    const { argv, env } = this.host.command(['timeout', String(seconds), ...this.hostArgv(args)]);
    const result = await execCapture(argv, { env, timeoutMs: seconds * 1000 + 10_000 });
    return { ...result, timedOut: result.exitCode === TIMEOUT_EXIT || result.signal !== null };
  }

  /** Runs podman and returns stdout, throwing the engine-neutral error (with a hint, see podman-error.ts) on failure. */
  async ok(args: readonly string[]): Promise<string> {
    const result = await this.capture(args);
    if (result.exitCode !== 0) throw podmanError(args, result.exitCode, result.stderr);
    return result.stdout;
  }

  /** Like {@link ok}, but a "no such object" failure is not an error. */
  async ignoringMissing(args: readonly string[]): Promise<void> {
    const result = await this.capture(args);
    if (result.exitCode !== 0 && !isNotFound(result.stderr)) throw podmanError(args, result.exitCode, result.stderr);
  }

  /**
   * Runs podman attached to this process's stdio; returns its exit code. With `detached`, podman
   * runs in a process group of its own (terminal signals reach this process only); `signal` stops it.
   */
  async inherit(
    args: readonly string[],
    options: {
      signal?: AbortSignal;
      detached?: boolean;
      onStdout?: (chunk: Buffer) => void;
      onStderr?: (chunk: Buffer) => void;
      onStderrEnd?: () => void;
    } = {},
  ): Promise<number> {
    await this.before();
    log.debug('podman (attached)', { args: redactArgs(args) });
    const { argv, env } = this.host.command(this.hostArgv(args));
    return execInherit(argv, {
      env,
      signal: options.signal,
      detached: options.detached,
      onStdout: options.onStdout,
      onStderr: options.onStderr,
      onStderrEnd: options.onStderrEnd,
    });
  }

  /** Runs podman with its output delivered line by line. */
  streaming(
    args: readonly string[],
    onLine: (line: string) => void,
    options: { signal?: AbortSignal; mergeStderr?: boolean } = {},
  ): StreamingProcess {
    if (!this.prepare) return this.streamingNow(args, onLine, options);
    // Started once the connection is ready; a kill before that is delivered then.
    let proc: StreamingProcess | undefined;
    let killWith: NodeJS.Signals | undefined;
    const done = this.before().then(() => {
      proc = this.streamingNow(args, onLine, options);
      if (killWith) proc.kill(killWith);
      return proc.done;
    });
    return {
      done,
      kill: (signal = 'SIGTERM') => {
        if (proc) proc.kill(signal);
        else killWith = signal;
      },
    };
  }

  private streamingNow(
    args: readonly string[],
    onLine: (line: string) => void,
    options: { signal?: AbortSignal; mergeStderr?: boolean } = {},
  ): StreamingProcess {
    log.debug('podman (streaming)', { args: redactArgs(args) });
    // mergeStderr: podman's stderr goes into its stdout (one pipe, the order it wrote them in, as
    // on a terminal); two pipes are read in whatever order their chunks arrive. The script is
    // constant and the podman arguments are positional parameters, never code.
    const podman = this.hostArgv(args);
    const { argv, env } = this.host.command(
      options.mergeStderr ? ['sh', '-c', 'exec "$@" 2>&1', 'sh', ...podman] : podman,
    );
    return execStreaming(argv, onLine, { env, signal: options.signal });
  }

  /**
   * Runs podman with `input` on a real pipe. podman insists on a pipe (`secret create … -`
   * refuses anything else), and Node gives a child a socket, so a fixed adapter turns it into
   * one: `sh -c 'cat | exec "$@"' sh podman …`. The script is constant; the podman arguments
   * are positional parameters, never code, and the input never appears in an argv.
   */
  async withPipedInput(args: readonly string[], input: string): Promise<ExecResult> {
    await this.before();
    log.debug('podman (stdin)', { args: redactArgs(args) });
    const { argv, env } = this.host.command(['sh', '-c', 'cat | exec "$@"', 'sh', ...this.hostArgv(args)]);
    return execCapture(argv, { env, input });
  }

  /**
   * Runs podman with binary streams: `input` is its stdin, its stdout goes to `onStdout` chunk
   * by chunk; stderr is captured. For archives sent to or read from a container.
   */
  async stream(
    args: readonly string[],
    options: {
      input?: AsyncIterable<Uint8Array>;
      onStdout?: (chunk: Buffer) => void | Promise<void>;
      onStderr?: (chunk: Buffer) => void;
    },
  ): Promise<ExecResult> {
    await this.before();
    log.debug('podman (stream)', { args: redactArgs(args) });
    // As in withPipedInput: podman gets a real pipe, not Node's socket (which it reads in small
    // pieces: shipping 200 MB took three times as long). The script is constant.
    const podman = this.hostArgv(args);
    const { argv, env } = this.host.command(options.input ? ['sh', '-c', 'cat | exec "$@"', 'sh', ...podman] : podman);
    return execStream(argv, { env, ...options });
  }

  /** Runs `<program on the host> | podman <args>` without a shell. */
  async pipeFrom(source: readonly string[], args: readonly string[]): Promise<PipeResult> {
    await this.before();
    log.debug('podman (piped)', { source, args: redactArgs(args) });
    const from = this.host.command(source);
    const to = this.host.command(this.hostArgv(args));
    return execPipe(from.argv, to.argv, { env: to.env });
  }
}
