import type { Command } from 'commander';
import { followSessionLogs, sessionLogs } from '../../lifecycle/session-logs.js';
import { UsageError } from '../../common/errors.js';
import { sessionCli } from '../global-options.js';
import { printSessionNetwork } from './network.js';

/** `mino logs NAME`. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("Show a session's output: its stdout on stdout, its stderr on stderr")
    .argument('<name>', 'session name')
    .option('-f, --follow', 'keep streaming until the session ends (Ctrl-C to stop watching)')
    .option('-l, --lines <n>', 'how many last lines (0 = all)', '100')
    .option(
      '--network',
      'instead of output: the destinations the session asked for, allowed and blocked (same as mino network show)',
    )
    .action(async (name: string, opts: { follow?: boolean; lines: string; network?: boolean }, cmd: Command) => {
      if (opts.network) {
        if (opts.follow)
          throw new UsageError(
            '--network cannot be combined with --follow',
            'Run mino network show NAME again to see new connections',
          );
        await printSessionNetwork(sessionCli(cmd).ctx, name);
        return;
      }
      const lines = Number(opts.lines);
      if (!Number.isInteger(lines) || lines < 0)
        throw new UsageError(`Invalid line count '${opts.lines}'`, 'Use a whole number, 0 for all');
      const { ctx } = sessionCli(cmd, name);
      if (opts.follow) {
        await followSessionLogs(ctx, name);
        return;
      }
      const logs = await sessionLogs(ctx, name, lines);
      process.stdout.write(logs.stdout);
      process.stderr.write(logs.stderr);
    });
}
