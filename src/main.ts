import { CommanderError } from 'commander';
import { printError } from './cli/print-error.js';
import { buildProgram, fromCommanderError } from './cli/program.js';

/** Entry point: parse the command line, run the command, map failures to exit codes. */
async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const usage = fromCommanderError(err, argv);
      process.exitCode = usage ? printError(usage) : err.exitCode;
      return;
    }
    process.exitCode = printError(err);
  }
}

void main(process.argv.slice(2));
