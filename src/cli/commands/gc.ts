import type { Command } from 'commander';
import { gcBuildDirs, gcSessions } from '../../lifecycle/gc-sessions.js';
import { loadSweepSettings } from '../../lifecycle/session-settings.js';
import { readConfigFlags } from '../config-options.js';
import { sessionCli } from '../global-options.js';

/** `mino gc`. */
export function registerGc(program: Command): void {
  program
    .command('gc')
    .description(
      'Fix stale sessions, stop sessions whose mino died or whose timeouts passed, and remove mino containers whose owner process is gone',
    )
    .option('--dry-run', 'only report what would be removed')
    .addHelpText(
      'after',
      `
Timeouts ([session] in the global config): a session with no client attached and no output for
idle_timeout_secs (300), with no client attached for detach_timeout_secs (3600), or suspended for
suspend_timeout_secs (86400) is stopped and removed (audit event session.expired). Ended sessions
older than auto_cleanup_hours (720) are forgotten. Every mino command runs this sweep in the
background at most once a minute; gc runs it now. Warm pool containers are left to the pool.
gc also removes the build directories of image builds whose mino was killed (kill -9), never one
whose process still runs.`,
    )
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const settings = loadSweepSettings(readConfigFlags(cmd).configPath);
      const result = await gcSessions(ctx, Boolean(opts.dryRun), settings);
      const builds = gcBuildDirs(undefined, Boolean(opts.dryRun));
      const out = process.stdout;
      for (const w of result.warnings) process.stderr.write(`Warning: ${w}\n`);
      for (const f of builds.failed)
        process.stderr.write(`Warning: Could not remove the build directory ${f.path}: ${f.error}\n`);
      for (const f of result.fixes) out.write(`session ${f.name}: ${f.from} -> ${f.status} (${f.reason})\n`);
      for (const o of result.removed) {
        out.write(
          `${opts.dryRun ? 'would remove' : 'removed'} container ${o.container.name} (session ${o.sessionName ?? '?'}, ${o.container.state}, owner gone)\n`,
        );
      }
      for (const a of result.abandoned) {
        out.write(
          `${opts.dryRun ? 'would stop' : 'stopped'} session ${a.name}: its mino process died while the command ran on (container ${a.container.name})\n`,
        );
      }
      for (const k of result.kept) out.write(`kept container ${k.orphan.container.name}: ${k.reason}\n`);
      for (const p of result.proxies)
        out.write(
          `${p.pid === undefined ? 'removed the leftovers of' : 'stopped'} the egress proxy of session ${p.session}\n`,
        );
      for (const s of result.secretsRemoved) out.write(`removed the leftover secrets file of session ${s}\n`);
      for (const b of builds.removed) {
        out.write(
          `${opts.dryRun ? 'would remove' : 'removed'} build directory ${b.path} (${b.owner ? `its process ${b.owner.split('@')[0]} is gone` : 'left by an older mino'})\n`,
        );
      }
      const { sweep } = result;
      for (const e of sweep.expired) {
        out.write(
          `${opts.dryRun ? 'would stop' : 'stopped'} session ${e.name}: ${e.reason} timeout (${e.timeoutSecs} s) passed${e.exitCode === null ? '' : ` (exit code ${e.exitCode})`}\n`,
        );
      }
      for (const k of sweep.kept) out.write(`kept session ${k.name}: ${k.reason}\n`);
      for (const f of sweep.forgotten)
        out.write(
          `${opts.dryRun ? 'would forget' : 'forgot'} ended session ${f} (older than session.auto_cleanup_hours)\n`,
        );
      const total =
        result.fixes.length +
        result.removed.length +
        result.abandoned.length +
        result.kept.length +
        sweep.expired.length +
        sweep.kept.length +
        sweep.forgotten.length +
        result.proxies.length +
        result.secretsRemoved.length +
        builds.removed.length;
      if (result.unsaved.length > 0) {
        // Said as warnings above; nothing was removed for them, the next gc tries again.
        process.exitCode = 1;
        return;
      }
      if (total === 0) out.write('Nothing to clean up\n');
    });
}
