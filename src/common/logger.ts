/** Log levels mino uses, from quiet to chatty. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const ORDER: Record<LogLevel, number> = { error: 50, warn: 40, info: 30, debug: 20, trace: 10 };

/** Minimal structured logger: messages go to stderr only, never stdout. */
export interface Logger {
  error(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  debug(msg: string, data?: Record<string, unknown>): void;
  trace(msg: string, data?: Record<string, unknown>): void;
}

type PinoLike = Record<LogLevel, (obj: Record<string, unknown>, msg: string) => void>;

let level: LogLevel = 'warn';
let pinoInstance: PinoLike | undefined;

/** Maps the count of `-v` flags to a level: 0 → warn, 1 → info, 2 → debug, 3+ → trace. */
export function levelForVerbosity(count: number): LogLevel {
  if (count <= 0) return 'warn';
  if (count === 1) return 'info';
  if (count === 2) return 'debug';
  return 'trace';
}

/** Sets the global log level (from `-v`, or `MINO_LOG` when set to a level name). */
export function setLogLevel(next: LogLevel): void {
  level = next;
  if (pinoInstance) (pinoInstance as unknown as { level: string }).level = next;
}

/** The current log level. */
export function getLogLevel(): LogLevel {
  return level;
}

function pino(): PinoLike {
  if (!pinoInstance) {
    // pino costs ~15 ms to load; only pay for it when something is actually logged. pino is
    // bundled: the bundler turns this `require` into a call of pino's module function, so pino's
    // module code (which reads the pid and host name) runs here, on first use, and never while the
    // single executable's start-up snapshot is built. Under vitest this module is ESM (no
    // `require`); node:module is reached through getBuiltinModule so the bundle does not load it.
    type PinoModule = ((opts: object, dest: unknown) => PinoLike) & { destination: (fd: number) => unknown };
    const pinoModule = (
      typeof require === 'function'
        ? require('pino')
        : process.getBuiltinModule('node:module').createRequire(import.meta.url)('pino')
    ) as PinoModule;
    const factory = pinoModule;
    const destination = pinoModule.destination(2);
    pinoInstance = factory({ level, base: undefined, name: 'mino' }, destination);
  }
  return pinoInstance;
}

function emit(at: LogLevel, msg: string, data?: Record<string, unknown>): void {
  if (ORDER[at] < ORDER[level]) return;
  pino()[at](data ?? {}, msg);
}

/** The process-wide logger. */
export const log: Logger = {
  error: (m, d) => emit('error', m, d),
  warn: (m, d) => emit('warn', m, d),
  info: (m, d) => emit('info', m, d),
  debug: (m, d) => emit('debug', m, d),
  trace: (m, d) => emit('trace', m, d),
};
