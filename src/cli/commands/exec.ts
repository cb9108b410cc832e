import type { Command } from 'commander';
import { execInSession } from '../../lifecycle/exec-session.js';
import { contextForSessionEngine } from '../engine-context.js';
import { sessionCli } from '../global-options.js';
import { DEFAULT_SHELL_COMMAND } from '../../config/defaults.js';
import { withEnvPrelude } from '../../credentials/session-prelude.js';

/**
 * Splits exec's operands into session name and command. commander swallows a `--` that comes
 * first (`mino exec -- ls` would make `ls` the session), so the raw arguments decide: a `--`
 * right after `exec` means "no name".
 */
export function splitExecArgs(
  rawArgs: readonly string[],
  args: readonly string[],
): { name: string | undefined; command: string[] } {
  const at = rawArgs.indexOf('exec');
  const firstOperand = rawArgs.slice(at + 1).find((a) => a === '--' || !a.startsWith('-'));
  if (at >= 0 && firstOperand === '--') return { name: undefined, command: [...args] };
  const [name, ...rest] = args;
  return { name, command: rest[0] === '--' ? rest.slice(1) : rest };
}

/** `mino exec [NAME] [-- CMD]`. */
export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('Run a command (default: a shell) in a running session; exits with its code')
    .argument('[name]', 'session name (default: the newest running session)')
    .argument('[command...]', 'command and arguments, after --')
    .passThroughOptions()
    .action(async (_name: string | undefined, _command: string[], _opts: unknown, cmd: Command) => {
      const { name, command } = splitExecArgs(
        (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [],
        cmd.args,
      );
      const { ctx } = sessionCli(cmd, name);
      process.exitCode = await execInSession(ctx, {
        onEngineOf: (record) => contextForSessionEngine(ctx, record.engine),
        name,
        command: command.length > 0 ? command : [...DEFAULT_SHELL_COMMAND],
        tty: Boolean(process.stdin.isTTY),
        // Through the session prelude when the session has one: the same credential variables.
        withPrelude: withEnvPrelude,
      });
    });
}
