import type { Command } from 'commander';
import { sessionDiff } from '../../branch/session-diff.js';
import { sessionCli } from '../global-options.js';

/** `mino diff NAME`: a branch session's work against the commit its branch started from. */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description("Show a branch session's work (committed and uncommitted) against where its branch started")
    .argument('<name>', 'session name (a session started with --branch or mino fork)')
    .option('--stat', 'a summary per file instead of the patch')
    .action(async (name: string, opts: { stat?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const text = await sessionDiff(ctx, name, { stat: Boolean(opts.stat) });
      if (text !== '') process.stdout.write(`${text}\n`);
    });
}
