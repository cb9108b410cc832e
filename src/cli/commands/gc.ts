import type { Command } from 'commander';
import { gcSessions } from '../../app/gc-sessions.js';
import { sessionCli } from '../global-options.js';

/** `mino gc`. */
export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('Fix stale sessions, stop sessions whose mino died, and remove mino containers whose owner process is gone')
    .option('--dry-run', 'only report what would be removed')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const result = await gcSessions(ctx, Boolean(opts.dryRun));
      const out = process.stdout;
      for (const w of result.warnings) process.stderr.write(`Warning: ${w}\n`);
      for (const f of result.fixes) out.write(`session ${f.name}: ${f.from} -> ${f.status} (${f.reason})\n`);
      for (const o of result.removed) {
        out.write(`${opts.dryRun ? 'would remove' : 'removed'} container ${o.container.name} (session ${o.sessionName ?? '?'}, ${o.container.state}, owner gone)\n`);
      }
      for (const a of result.abandoned) {
        out.write(`${opts.dryRun ? 'would stop' : 'stopped'} session ${a.name}: its mino process died while the command ran on (container ${a.container.name})\n`);
      }
      for (const k of result.kept) out.write(`kept container ${k.orphan.container.name}: ${k.reason}\n`);
      for (const p of result.proxies) out.write(`${p.pid === undefined ? 'removed the leftovers of' : 'stopped'} the egress proxy of session ${p.session}\n`);
      for (const s of result.secretsRemoved) out.write(`removed the leftover secrets file of session ${s}\n`);
      if (result.fixes.length + result.removed.length + result.abandoned.length + result.kept.length + result.proxies.length + result.secretsRemoved.length === 0) out.write('Nothing to clean up\n');
    });
}
