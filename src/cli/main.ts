import { CommanderError } from 'commander';
import { sweepInBackgroundIfDue } from './background-sweep.js';
import { exitQuietlyOnBrokenPipe } from './broken-pipe.js';
import { printError } from './print-error.js';
import { argvHead, enableTrace, trace, traceCpu } from '../common/trace.js';
import { exitEarlyIfIdle } from '../common/exit-early.js';
import { buildProgram, fromCommanderError } from './program.js';

/**
 * Runs mino with the given arguments (without the program name): parses the command line, runs
 * the command and maps failures to exit codes (`process.exitCode`). Shared by the Node bundle
 * (`src/main.ts`) and the single executable's snapshot entry (`src/sea-main.ts`).
 */
export async function main(argv: string[]): Promise<void> {
  // `--trace` among mino's own options (before `--`), known before anything else runs.
  const own = argv.indexOf('--');
  if ((own < 0 ? argv : argv.slice(0, own)).includes('--trace')) enableTrace();
  trace('main', `mino ${argvHead(argv)}`);
  exitQuietlyOnBrokenPipe();
  try {
    // Only the modules of the command on this command line are loaded (program.ts).
    const program = await buildProgram(argv);
    trace('program ready');
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const usage = fromCommanderError(err, argv);
      process.exitCode = usage ? printError(usage) : err.exitCode;
      return;
    }
    process.exitCode = printError(err);
  } finally {
    sweepInBackgroundIfDue(argv);
    trace('done', `exit ${String(process.exitCode ?? 0)}${traceCpu()}`);
    exitEarlyIfIdle();
  }
}
