import type { Command } from 'commander';
import { loadSweepSettings } from '../../lifecycle/session-settings.js';
import { sweepSessions } from '../../lifecycle/sweep-sessions.js';
import { SWEEP_COMMAND } from '../background-sweep.js';
import { readConfigFlags } from '../config-options.js';
import { sessionCli } from '../global-options.js';

/** `mino _sweep` (hidden): the background timeout sweep started by other mino invocations. */
export function registerSweep(program: Command): void {
  program
    .command(SWEEP_COMMAND, { hidden: true })
    .description('Stop sessions whose timeouts passed (started in the background by mino itself)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const settings = loadSweepSettings(readConfigFlags(cmd).configPath);
      const outcome = await sweepSessions(ctx, settings);
      for (const w of outcome.warnings) process.stderr.write(`Warning: ${w}\n`);
    });
}
