import type { Command } from 'commander';
import { runDoctor } from '../../setup/doctor.js';
import { ownStoreAccess } from '../../setup/own-store-access.js';
import { sessionContext } from '../../context/session-context.js';
import { sessionHealth } from '../../setup/session-health.js';
import { loadGlobalResolved, sweepSettingsOf } from '../../lifecycle/session-settings.js';
import { DEFAULT_CACHE_MAX_TOTAL_GB } from '../../config/defaults.js';
import type { SweepSettings } from '../../session/timeouts.js';
import { readConfigFlags } from '../config-options.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { applyGlobalOptions, runtimeForCli } from '../global-options.js';
import { formatCheck } from '../render-checks.js';

/** `mino status`: reports the container engine and every check, without changing anything. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the container runtime and check that containers can run (changes nothing)')
    .option('-f, --format <format>', 'output format: text or json', 'text')
    .addHelpText(
      'after',
      `
Each check is OK, INFO, WARN or FAIL with a hint. Exits 1 when a critical check fails.
When the engine answers, the health of sessions follows: sessions by state, the warm pool,
sessions past a timeout not stopped yet, and the disk budget of caches and composed images.
JSON output: {"ok": bool, "runtime": {...} | null, "checks": [{"id", "title", "status", "detail", "hint"}]}`,
    )
    .action(async (opts: { format: string }, command: Command) => {
      applyGlobalOptions(command);
      if (opts.format !== 'text' && opts.format !== 'json') {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format text or --format json');
      }
      // The engine on the user's default store: the storage check decides whether mino uses its own.
      const { defaultRuntime: runtime, ownStore, host, kind } = runtimeForCli({ lenient: true });
      const out = process.stdout;
      const json = opts.format === 'json';
      if (!json) out.write(`${palette(out).bold('mino status')}\n`);
      const report = await runDoctor({
        runtime,
        host,
        kind,
        ownStore: ownStoreAccess(ownStore),
        fix: false,
        assumeYes: false,
        interactive: false,
        confirm: () => Promise.resolve(false),
        reporter: json ? undefined : (r) => out.write(formatCheck(r, out)),
      });
      if (report.info) {
        let settings: SweepSettings | Error;
        let limitGb = DEFAULT_CACHE_MAX_TOTAL_GB;
        try {
          const config = loadGlobalResolved(readConfigFlags(command).configPath);
          settings = sweepSettingsOf(config);
          limitGb = config.cache.max_total_gb;
        } catch (err) {
          settings = err as Error;
        }
        for (const check of await sessionHealth(sessionContext(runtime), settings, limitGb)) {
          report.results.push(check);
          if (!json) out.write(formatCheck(check, out));
          if (check.status === 'fail') report.ok = false;
        }
      }
      if (json) {
        out.write(
          `${JSON.stringify({ ok: report.ok, runtime: report.info ?? null, checks: report.results }, null, 2)}\n`,
        );
      } else {
        const p = palette(out);
        out.write(
          report.ok
            ? `${p.green('All critical checks passed.')}\n`
            : `${p.red('Some checks failed; see the hints above.')}\n`,
        );
      }
      if (!report.ok) process.exitCode = 1;
    });
}
