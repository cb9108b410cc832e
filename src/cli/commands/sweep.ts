import type { Command } from 'commander';
import { loadSweepSettings } from '../../lifecycle/session-settings.js';
import { sweepSessions } from '../../lifecycle/sweep-sessions.js';
import { SWEEP_COMMAND } from '../background-sweep.js';
import { readConfigFlags } from '../config-options.js';
import { sessionCli } from '../global-options.js';
import { HOUSEKEEPING_COMMAND, housekeepNow } from '../../run/housekeeping.js';
import { log } from '../../common/logger.js';

/** `mino _sweep` (hidden): the background timeout sweep started by other mino invocations; and `mino _housekeeping`. */
export function registerSweep(program: Command): void {
  program
    .command(HOUSEKEEPING_COMMAND, { hidden: true })
    .description("A run's housekeeping (started in the background by mino run itself)")
    .option('--reconcile', 'reconcile session records with the engine')
    .option('--budget-gb <n>', 'enforce the disk budget of dependency caches and images')
    .action(async (opts: { reconcile?: boolean; budgetGb?: string }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const budgetGb = opts.budgetGb === undefined ? undefined : Number(opts.budgetGb);
      const due = {
        reconcile: Boolean(opts.reconcile),
        ...(budgetGb !== undefined && Number.isFinite(budgetGb) && budgetGb > 0 ? { budgetGb } : {}),
      };
      for (const line of await housekeepNow(ctx, due)) log.warn(line);
    });
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
