import type { Command } from 'commander';
import {
  DETACH_SIGNAL,
  attachSession,
  detachSession,
  resumeSession,
  suspendSession,
} from '../../lifecycle/session-control.js';
import { UsageError } from '../../common/errors.js';
import { DEFAULT_DETACH_KEYS } from '../../config/defaults.js';
import { parseDetachKeys } from '../../runtime/validate.js';
import { printable } from '../../common/printable.js';
import { sessionCli } from '../global-options.js';
import { notice } from '../notices.js';

/** `mino attach NAME`: this terminal to a running session's main process. */
export function registerAttach(program: Command): void {
  program
    .command('attach')
    .description('Attach this terminal to a running session (started with mino run -d); detach keys leave it running')
    .argument('<name>', 'session name')
    .option('--detach-keys <keys>', `key sequence that detaches, e.g. ctrl-a,d ('' = none)`, DEFAULT_DETACH_KEYS)
    .addHelpText(
      'after',
      `
The session's command gets this terminal (sessions started with mino run -d have one; resizing
works). The detach keys (default ${DEFAULT_DETACH_KEYS}), 'mino detach NAME' from elsewhere, or
closing the terminal detach this client and leave the session running. When the command ends
while attached, mino attach exits with its exit code. Keys: single characters or ctrl-<c> with
<c> one of a-z @ [ \\ ] ^ _, separated by commas.`,
    )
    .action(async (name: string, opts: { detachKeys: string }, cmd: Command) => {
      if (parseDetachKeys(opts.detachKeys) === undefined) {
        throw new UsageError(
          `Invalid --detach-keys '${printable(opts.detachKeys)}'`,
          `Use characters or ctrl-<letter> separated by commas, e.g. ${DEFAULT_DETACH_KEYS}`,
        );
      }
      const { ctx } = sessionCli(cmd, name);
      const abort = new AbortController();
      const leave = (): void => abort.abort();
      // Each ends this client only; ctrl-c reaches mino as SIGINT only when the session has no
      // terminal (a raw terminal sends it to the command as a key).
      const signals: NodeJS.Signals[] = [DETACH_SIGNAL, 'SIGTERM', 'SIGHUP', 'SIGINT'];
      for (const s of signals) process.on(s, leave);
      try {
        const outcome = await attachSession(ctx, name, {
          detachKeys: opts.detachKeys,
          signal: abort.signal,
          onAttach: () =>
            notice(`Attached to session ${name}${opts.detachKeys === '' ? '' : `; detach with ${opts.detachKeys}`}`),
        });
        if (outcome.detached) {
          notice(`\nDetached from session ${name}; it runs on (mino attach ${name} to return)`);
        } else {
          const code = outcome.exitCode;
          notice(`Session ${name} ended${code === null ? '' : ` (exit code ${code})`}`);
          process.exitCode = code ?? 0;
        }
      } finally {
        for (const s of signals) process.off(s, leave);
      }
    });
}

/** `mino detach NAME`: detaches the session's `mino attach` client. */
export function registerDetach(program: Command): void {
  program
    .command('detach')
    .description('Detach the client attached to a session (mino attach elsewhere); the session runs on')
    .argument('<name>', 'session name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd, name);
      const { pid } = await detachSession(ctx, name);
      notice(`Detached the client of session ${name} (pid ${pid}); the session runs on`);
    });
}

/** `mino suspend NAME`. */
export function registerSuspend(program: Command): void {
  program
    .command('suspend')
    .description('Suspend a running session: freeze its processes (podman pause) until mino resume')
    .argument('<name>', 'session name')
    .addHelpText(
      'after',
      `
A suspended session keeps its memory and uses no CPU; it is stopped after
session.suspend_timeout_secs (default 86400). Rootless Podman cannot pause on a cgroup v1 host:
mino then says so and exits 1, and the session keeps running.`,
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd, name);
      await suspendSession(ctx, name);
      notice(`Session ${name} suspended (mino resume ${name} to continue)`);
    });
}

/** `mino resume NAME`. */
export function registerResume(program: Command): void {
  program
    .command('resume')
    .description('Resume a suspended session (podman unpause)')
    .argument('<name>', 'session name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd, name);
      await resumeSession(ctx, name);
      notice(`Session ${name} resumed`);
    });
}
