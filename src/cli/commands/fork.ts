import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { sessionCopy } from '../../branch/session-copy.js';
import { runSession } from '../../run/run-session.js';
import { addRunOptions, runInputsOf, type RunOptions } from '../run-options.js';
import { sessionCli } from '../global-options.js';

/**
 * `mino fork SESSION [NEW] [run flags] [-- CMD...]`: a new branch session that starts where
 * SESSION is (its branch tip and its uncommitted work), on branch mino/NEW.
 */
export function registerFork(program: Command): void {
  addRunOptions(
    program
      .command('fork')
      .description("Start a new branch session from another's state: its branch tip and its uncommitted work")
      .argument('<session>', 'the branch session to fork (running or ended)')
      .argument(
        '[new-and-command...]',
        'NEW (the new branch mino/NEW; default SESSION-fork-<4 hex>), then -- and the command',
      ),
  ).action(async (session: string, rest: string[], opts: RunOptions, cmd: Command) => {
    // Operands before `--` are NEW; after it, the command.
    const dash = process.argv.indexOf('--');
    const command = dash < 0 ? [] : process.argv.slice(dash + 1);
    const before = rest.slice(0, rest.length - command.length);
    if (before.length > 1)
      throw new UsageError(
        `mino fork takes one NEW name, not ${before.length}`,
        'Use: mino fork SESSION [NEW] [-- CMD...]',
      );
    // An unknown session, one without a branch or without its copy: a usage error before anything.
    const source = sessionCopy(sessionCli(cmd).ctx, session);
    const name = before[0] ?? `${source.meta.name}-fork-${globalThis.crypto.randomUUID().slice(0, 4)}`;
    const inputs = await runInputsOf(cmd, { ...opts, project: source.meta.repo }, command);
    inputs.req.branch = name;
    inputs.req.forkFrom = session;
    process.exitCode = await runSession(inputs.ctx, inputs.req, inputs.facts, inputs.io);
  });
}
