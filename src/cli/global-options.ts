import type { Command } from 'commander';
import { levelForVerbosity, setLogLevel, type LogLevel } from '../common/logger.js';
import { sessionContext, type SessionContext } from '../app/session-context.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { runtimeKind, selectRuntime, type RuntimeKind } from '../runtime/select-runtime.js';

/** Options every command accepts. */
export interface GlobalOptions {
  verbose: number;
}

/** Reads the global options from any (sub)command and applies the log level. */
export function applyGlobalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals() as { verbose?: number };
  const verbose = opts.verbose ?? 0;
  const fromEnv = process.env.MINO_LOG as LogLevel | undefined;
  const levels: LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
  setLogLevel(verbose > 0 || !fromEnv || !levels.includes(fromEnv) ? levelForVerbosity(verbose) : fromEnv);
  return { verbose };
}

/** The runtime for this machine and which kind it is. */
export function runtimeForCli(): { runtime: ContainerRuntime; kind: RuntimeKind } {
  return { runtime: selectRuntime(), kind: runtimeKind() };
}

/** Session use-case context for a command, plus whether podman runs rootless. */
export function sessionCli(command: Command): { ctx: SessionContext; rootless: boolean } {
  applyGlobalOptions(command);
  const { runtime, kind } = runtimeForCli();
  // Podman as a non-root user is always rootless; an OrbStack machine's user is not root.
  const rootless = kind === 'orbstack' || (process.getuid?.() ?? 0) !== 0;
  return { ctx: sessionContext(runtime), rootless };
}
