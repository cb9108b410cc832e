import type { Command } from 'commander';
import { syncSession } from '../../lifecycle/sync-session.js';
import { checkSessionRepos } from '../../lifecycle/session-repo-guard.js';
import { sessionCli } from '../global-options.js';

/** `mino sync NAME`: bring a remote session's changes back now. */
export function registerSync(program: Command): void {
  program
    .command('sync')
    .description(
      'Bring the changes of a session on a remote engine back into the project now (it also happens when it ends)',
    )
    .argument('<name>', 'session name')
    .addHelpText(
      'after',
      `
A session on a remote engine (mino run --engine NAME) works on a copy of the project in a volume
there. Its changes come back when the session ends, and whenever you run mino sync. A file changed
both here and there since the last sync is never overwritten: the engine's version is kept beside
yours as FILE.mino-remote and reported. Changes to protected paths (git hooks and config, editor
and agent settings) never come back. sync.exclude names what stays on the engine.`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd, name);
      const { lines, result } = await syncSession(ctx, name);
      for (const line of lines) process.stderr.write(`${line}\n`);
      // Repositories the session made that came back are made harmless now (it goes on: checked again at its end).
      for (const w of checkSessionRepos(ctx.stateDir, name, undefined, undefined, true))
        process.stderr.write(`Warning: ${w}\n`);
      if (result && result.conflicts.length > 0) process.exitCode = 1;
    });
}
