import type { Command } from 'commander';
import { sandboxStats, type SandboxStats } from '../../lifecycle/sandbox-stats.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { sessionCli } from '../global-options.js';

const ROWS: [keyof SandboxStats, string][] = [
  ['sandboxes_created', 'Sandboxes created'],
  ['active_sandboxes', 'Active sandboxes'],
  ['active_sessions', 'Active sessions'],
  ['detached_sessions', 'Detached sessions'],
  ['suspended_sessions', 'Suspended sessions'],
  ['pool_size', 'Warm pool size'],
  ['pool_hit_rate', 'Pool hit rate'],
  ['avg_creation_time_ms', 'Avg creation time'],
  ['timeout_destroys', 'Timeout destroys'],
];

function shown(key: keyof SandboxStats, value: number | null): string {
  if (value === null) return '-';
  if (key === 'pool_hit_rate') return `${Math.round(value * 1000) / 10}%`;
  if (key === 'avg_creation_time_ms') return `${value} ms`;
  return String(value);
}

/** `mino stats`: counts of sessions, sandboxes and the warm pool, and the mean creation time. */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('Show session and sandbox statistics (counts survive restarts)')
    .option('-f, --format <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      `
JSON: {"sandboxes_created", "active_sandboxes", "active_sessions", "detached_sessions",
"suspended_sessions", "pool_size", "pool_hit_rate", "avg_creation_time_ms", "timeout_destroys"};
pool_hit_rate and avg_creation_time_ms are null until there is something to divide. Computed from
files only (counters, session records, the warm pool's index), without asking podman: session
states are as current as the last reconciliation, which every mino list and the timeout sweep do.`,
    )
    .action(async (opts: { format: string }, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table or json');
      const { ctx } = sessionCli(cmd);
      const { stats, warnings } = sandboxStats(ctx);
      for (const w of warnings) process.stderr.write(`Warning: ${w}\n`);
      if (opts.format === 'json') {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
        return;
      }
      const p = palette(process.stdout);
      const width = Math.max(...ROWS.map(([, label]) => label.length));
      process.stdout.write(
        ROWS.map(([key, label]) => `${p.bold(label.padEnd(width))}  ${shown(key, stats[key])}\n`).join(''),
      );
    });
}
