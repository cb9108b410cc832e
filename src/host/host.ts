import { execCapture, type ExecResult } from '../common/exec.js';
import { log } from '../common/logger.js';
import { redactArgs } from '../common/redact.js';

/**
 * The machine where podman runs, for the programs on it that are not the engine (package
 * managers, debootstrap, `id`, `cat`, `tar`, `du`): this computer, another user on it (tests), or
 * an OrbStack Linux machine (`orb -m <vm> <program>`). The engine itself is reached only through
 * a ContainerRuntime built on the same Host.
 */

/** Options of {@link Host.run}. */
export interface HostRunOptions {
  /** Text on stdin (never put secrets in argv). */
  input?: string;
  /** Stop the program (SIGTERM, then SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
}

/** Runs programs on one machine. */
export interface Host {
  /** Human-readable name for messages, e.g. `this host` or `OrbStack machine mino`. */
  readonly name: string;
  /** Runs a program there to completion, capturing its output; never throws for a non-zero exit. */
  run(argv: readonly string[], options?: HostRunOptions): Promise<ExecResult>;
  /**
   * The command line (and environment) that starts `argv` on this machine from here, for
   * callers that attach, stream or pipe the program themselves (the engine on this host).
   */
  command(argv: readonly string[]): HostCommand;
}

/** A program as started from this process: full argv and environment. */
export interface HostCommand {
  argv: string[];
  /** Whole environment of the process; undefined means this process's. */
  env: NodeJS.ProcessEnv | undefined;
}

/** How a {@link CommandHost} reaches its machine. */
export interface CommandHostOptions {
  /**
   * Argument prefix that runs a program there: `[]` for this computer, `['orb', '-m', 'mino']`
   * for an OrbStack machine, `['runuser', '-u', 'ann', '--', …]` for another local user.
   */
  prefix?: readonly string[];
  /** Environment of every program (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Display name (default `this host`). */
  name?: string;
}

/** A Host reached by running programs behind an optional argument prefix. */
export class CommandHost implements Host {
  readonly name: string;
  private readonly prefix: readonly string[];
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: CommandHostOptions = {}) {
    this.prefix = options.prefix ?? [];
    this.env = options.env;
    this.name = options.name ?? 'this host';
  }

  command(argv: readonly string[]): HostCommand {
    return { argv: [...this.prefix, ...argv], env: this.env };
  }

  run(argv: readonly string[], options: HostRunOptions = {}): Promise<ExecResult> {
    log.debug('host exec', { argv: redactArgs(argv) });
    const { argv: full, env } = this.command(argv);
    return execCapture(full, { env, input: options.input, timeoutMs: options.timeoutMs });
  }
}

/** This computer, as the user running mino. */
export const localHost: Host = new CommandHost();
