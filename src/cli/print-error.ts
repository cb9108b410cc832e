import { EXIT_FAILURE, MinoError } from '../common/errors.js';
import { getLogLevel } from '../common/logger.js';
import { storageError, type NamedDir } from '../common/storage-error.js';
import { palette } from '../common/terminal.js';
import { minoPaths } from '../common/xdg-paths.js';

/** Prints an error as `Error: <what>` and `Hint: <what to do>` on stderr; returns the exit code. */
export function printError(err: unknown): number {
  const p = palette(process.stderr);
  if (err instanceof MinoError) {
    process.stderr.write(`${p.bold(p.red('Error:'))} ${err.message}\n`);
    if (err.hint) process.stderr.write(`${p.yellow('Hint:')} ${err.hint}\n`);
    if (getLogLevel() === 'debug' || getLogLevel() === 'trace') {
      if (err.cause) process.stderr.write(`${p.dim(String((err.cause as Error).stack ?? err.cause))}\n`);
    }
    return err.exitCode;
  }
  const storage = storageError(err, minoDirs());
  if (storage) return printError(storage);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${p.bold(p.red('Error:'))} ${message}\n`);
  process.stderr.write(`${p.yellow('Hint:')} This is a bug in mino; run with -vv and report the output\n`);
  if (err instanceof Error && err.stack && getLogLevel() !== 'warn') process.stderr.write(`${p.dim(err.stack)}\n`);
  return EXIT_FAILURE;
}

/** mino's directories, for naming the one a file system error happened in. */
function minoDirs(): NamedDir[] {
  const p = minoPaths();
  return [
    { label: "mino's state directory", path: p.stateDir, variable: 'XDG_STATE_HOME' },
    { label: "mino's config directory", path: p.configDir, variable: 'XDG_CONFIG_HOME' },
    { label: "mino's data directory", path: p.dataDir, variable: 'XDG_DATA_HOME' },
  ];
}
