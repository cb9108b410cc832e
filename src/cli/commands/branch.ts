import type { Command } from 'commander';
import { pruneBranches } from '../../branch/prune-branches.js';
import { sessionCli } from '../global-options.js';

/** `mino branch prune`: remove the working copies of ended branch sessions whose work is merged. */
export function registerBranch(program: Command): void {
  const branch = program.command('branch').description("Branch sessions' working copies");
  branch
    .command('prune')
    .description('Remove the working copies of ended branch sessions whose work is all merged into HEAD')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .addHelpText(
      'after',
      `
A working copy is removed (with its home volume) only when no session runs on it, it has no
uncommitted work, and every branch and stash in it is merged into the host repository's HEAD.
Each copy's work comes home first. The branch mino/NAME stays in your repository.`,
    )
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const outcomes = await pruneBranches(ctx, { dryRun: Boolean(opts.dryRun) });
      if (outcomes.length === 0) process.stdout.write('No working copies\n');
      for (const o of outcomes) {
        const verb = o.removed ? (opts.dryRun ? 'would remove' : 'removed') : 'kept';
        process.stdout.write(`${verb} ${o.branch} (${o.repo})${o.reason ? `: ${o.reason}` : ''}\n`);
      }
    });
}
