import type { Command } from 'commander';
import { levelForVerbosity, setLogLevel, type LogLevel } from '../common/logger.js';
import { sessionContext, type SessionContext } from '../context/session-context.js';
import { setQuiet } from './notices.js';
import { errorMessage, MinoError } from '../common/errors.js';
import { selectRuntime, type SelectedRuntime } from '../runtime/select-runtime.js';
import { contextForSessionEngine, engineRuntime } from './engine-context.js';

/** Options every command accepts. */
export interface GlobalOptions {
  verbose: number;
  quiet: boolean;
}

const increment = (_value: string, previous: number): number => previous + 1;

/**
 * Adds `-v/--verbose` (repeatable) and `-q/--quiet` to a command, so they work before and after
 * the subcommand name (`mino -v run`, `mino run -v`, `mino volume create -q`).
 */
export function addVerbosityOptions(command: Command): Command {
  command
    .option('-v, --verbose', 'log more to stderr (repeat for more: -vv debug, -vvv trace)', increment, 0)
    .option('-q, --quiet', 'no progress or notices on stderr (errors and warnings still show)')
    .option('--trace', 'print a timeline of this run on stderr (programs started, waits, in ms; or MINO_TRACE=1)');
  for (const sub of command.commands) addVerbosityOptions(sub);
  return command;
}

/** Reads the global options from any (sub)command and applies the log level and quiet mode. */
export function applyGlobalOptions(command: Command): GlobalOptions {
  let verbose = 0;
  let quiet = false;
  // Each level may carry its own -v count and -q (see addVerbosityOptions): add them up.
  for (let c: Command | null = command; c; c = c.parent) {
    const opts = c.opts() as { verbose?: number; quiet?: boolean };
    verbose += opts.verbose ?? 0;
    quiet ||= Boolean(opts.quiet);
  }
  setQuiet(quiet);
  const fromEnv = process.env.MINO_LOG as LogLevel | undefined;
  const levels: LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
  setLogLevel(verbose > 0 || !fromEnv || !levels.includes(fromEnv) ? levelForVerbosity(verbose) : fromEnv);
  return { verbose, quiet };
}

/**
 * The runtime for this machine, which kind it is, and the host it runs on. With `lenient`
 * (setup, status), an unreadable record of mino's own store is a warning, not an error.
 */
export function runtimeForCli(options: { lenient?: boolean } = {}): SelectedRuntime {
  if (!options.lenient) return selectRuntime();
  return selectRuntime({
    onBadOwnStore: (err) => {
      const hint = err instanceof MinoError && err.hint ? ` (${err.hint})` : '';
      process.stderr.write(`Warning: ${errorMessage(err)}${hint}; using podman's default store\n`);
    },
  });
}

/**
 * Session use-case context for a command, plus whether podman runs rootless and on this machine
 * (not in an OrbStack VM).
 */
export function sessionCli(
  command: Command,
  sessionName?: string,
): { ctx: SessionContext; rootless: boolean; localEngine: boolean } {
  applyGlobalOptions(command);
  const { runtime, defaultRuntime, kind } = runtimeForCli();
  // Podman as a non-root user is always rootless; an OrbStack machine's user is not root.
  const rootless = kind === 'orbstack' || (process.getuid?.() ?? 0) !== 0;
  const local: SessionContext = {
    ...sessionContext(runtime, process.env, defaultRuntime),
    // Sessions of registered engines (src/engine/) are reached through their own runtime.
    runtimeOf: (engine) => (engine === undefined ? runtime : engineRuntime(engine)),
  };
  // A named session lives on the engine its record names.
  const engine = sessionName === undefined ? undefined : sessionEngine(local, sessionName);
  const ctx = engine === undefined ? local : contextForSessionEngine(local, engine);
  return {
    ctx,
    rootless: engine === undefined ? rootless : true,
    localEngine: kind === 'podman' && engine === undefined,
  };
}

function sessionEngine(ctx: SessionContext, name: string): string | undefined {
  try {
    return ctx.store.get(name)?.engine;
  } catch {
    return undefined; // an unreadable record: the command reports it as it always did
  }
}
