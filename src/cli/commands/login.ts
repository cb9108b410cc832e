import type { Command } from 'commander';
import { loginStatus, resetLogins } from '../../resources/agent-logins.js';
import { sessionCli } from '../global-options.js';

/** `mino login [--reset [AGENT...]]`. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Show or forget the agent logins (Claude Code, Codex) that all your sessions share')
    .argument('[agents...]', 'with --reset: only these agents (claude, codex)')
    .option('--reset', 'forget the shared logins (all, or the agents named)')
    .addHelpText(
      'after',
      `
Log in once inside any session (Claude Code: /login or 'claude auth login'; Codex: 'codex login')
and every later session of yours, in any project, is logged in too. Only the login files are
shared (Claude Code's .credentials.json, Codex's auth.json), in the volume mino-logins-<key>;
settings, history and transcripts stay in each project's home. 'mino run --no-shared-logins'
leaves them out of a session (for a project you do not trust).`,
    )
    .action(async (agents: string[], opts: { reset?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const out = process.stdout;
      if (opts.reset) {
        const forgotten = await resetLogins(ctx, agents);
        const which =
          agents.length === 0
            ? 'All shared agent logins'
            : `The shared ${agents.join(' and ')} login${agents.length > 1 ? 's' : ''}`;
        out.write(
          `${which} forgotten${forgotten.length > 0 ? ` (were stored: ${forgotten.join(', ')})` : ' (none was stored)'}\n`,
        );
        return;
      }
      if (agents.length > 0) {
        process.stderr.write('Warning: agent names only apply with --reset\n');
      }
      const status = await loginStatus(ctx);
      out.write(
        `Agent logins shared by all your sessions (volume ${status.volume}${status.exists ? '' : ', not created yet'}):\n`,
      );
      for (const a of status.agents) out.write(`  ${a.agent.padEnd(8)}${a.stored ? 'logged in' : 'not logged in'}\n`);
      out.write("Log in inside any session; 'mino login --reset [agent]' forgets.\n");
    });
}
