import type { Command } from 'commander';
import { finalSessionNetwork, hasEgress } from '../../lifecycle/network-control.js';
import { stopSession } from '../../lifecycle/stop-session.js';
import { checkSessionRepos } from '../../lifecycle/session-repo-guard.js';
import { syncSessionRecord } from '../../lifecycle/sync-session.js';
import { blockedSummary, learnedRules, learnLine } from '../../network/network-record.js';
import { sessionCli } from '../global-options.js';
import { notice } from '../notices.js';

/** `mino stop NAME`. */
export function registerStop(program: Command): void {
  program
    .command('stop')
    .description('Stop a session: SIGTERM to its command, SIGKILL after 10 s (-f: at once)')
    .argument('<name>', 'session name')
    .option('-f, --force', 'kill the container immediately')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd, name);
      const result = await stopSession(ctx, name, Boolean(opts.force));
      const code = result.record.exit_code;
      notice(
        result.stopped
          ? `Session ${name} stopped${code === null || code === undefined ? '' : ` (exit code ${code})`}`
          : `Session ${name} is already ${result.record.status}`,
      );
      for (const line of result.home ?? []) process.stderr.write(`${line}\n`);
      // On a remote engine: the session's changes come back now.
      if (result.stopped && result.record.engine !== undefined) {
        for (const line of (await syncSessionRecord(ctx, result.record)).lines) process.stderr.write(`${line}\n`);
      }
      // The git repositories it made in the project (brought back, on a remote engine) are made harmless.
      if (result.stopped)
        for (const w of checkSessionRepos(ctx.stateDir, name)) process.stderr.write(`Warning: ${w}\n`);
      if (!result.stopped || !hasEgress(result.record)) return;
      // The session's egress proxy ends with its container: what it saw.
      const record = await finalSessionNetwork(ctx, name);
      const blocked = record && blockedSummary(record);
      if (blocked) process.stderr.write(`mino: ${blocked}\n`);
      if (record?.mode === 'learn') process.stderr.write(`${learnLine(learnedRules(record))}\n`);
    });
}
