import type { Command } from 'commander';
import { drainPool } from '../../pool/drain-pool.js';
import { REFILL_COMMAND } from '../../pool/pool-refill-spawn.js';
import { poolStatus, type PoolStatus } from '../../pool/pool-status.js';
import { refillPool } from '../../pool/refill-pool.js';
import { UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { readPool, validatePoolKey } from '../../pool/pool-index.js';
import { contextForSessionEngine } from '../engine-context.js';
import { findEngine, readEngineRegistry } from '../../engine/engine-registry.js';
import { LOCAL_ENGINE } from '../../engine/engine-name.js';
import { DEFAULT_POOL_SETTINGS, poolSettingsOf } from '../../pool/pool-settings.js';
import { warmRun } from '../../run/warm-run.js';
import { addRunOptions, runInputsOf, type RunOptions } from '../run-options.js';
import { loadConfigForCli, projectDirOf } from '../config-options.js';
import { sessionCli } from '../global-options.js';
import { notice } from '../notices.js';

/** `--engine` of `mino pool status|drain`: a registered engine's name, or null for this machine's. */
function engineFilterOf(name: string): string | null {
  return name === LOCAL_ENGINE ? null : findEngine(readEngineRegistry(), name).name;
}

/** `-n` of `mino pool warm`: a whole number (its range is checked with the settings). */
function parseWarmCount(value: string): number {
  if (!/^-?[0-9]{1,6}$/.test(value.trim())) {
    throw new UsageError(`Invalid -n '${value.slice(0, 40)}': not a whole number`, "Use e.g. 'mino pool warm -n 2'");
  }
  return Number.parseInt(value, 10);
}

function parseWhole(what: string, value: string, min: number, max: number): number {
  const n = /^[0-9]{1,6}$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!(n >= min && n <= max))
    throw new UsageError(`Invalid ${what} '${value.slice(0, 40)}'`, `Use a whole number from ${min} to ${max}`);
  return n;
}

function render(status: PoolStatus): string {
  const p = palette(process.stdout);
  const lines = [
    `Warm pool: ${status.enabled ? 'on' : 'off (pool.enabled = false)'}; ${status.warm_total} warm of at most ${status.max_warm}; unused containers expire after ${status.warm_ttl} s${status.refilling ? '; refilling' : ''}`,
  ];
  if (status.pools.length === 0) {
    lines.push("No pools. 'mino pool warm [-n N] [run flags]' keeps containers warm for a project.");
    return `${lines.join('\n')}\n`;
  }
  // The ENGINE column once a pool runs on a remote engine.
  const remote = status.pools.some((x) => x.engine !== null);
  const rows = status.pools.map((x) => [
    x.key.slice(0, 12),
    ...(remote ? [x.engine ?? 'local'] : []),
    `${x.warm}/${x.target}`,
    x.next_expiry === null ? '-' : x.next_expiry.slice(11, 19),
    x.image ?? '?',
    x.project_dir ?? '?',
  ]);
  const head = ['POOL', ...(remote ? ['ENGINE'] : []), 'WARM', 'EXPIRES', 'IMAGE', 'PROJECT'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  lines.push(p.bold(line(head)), ...rows.map(line));
  return `${lines.join('\n')}\n`;
}

/**
 * `mino pool warm|status|drain` and the hidden background refill. `warm` takes the flags of
 * `mino run` (run-options.ts) and plans with the run path's own planRun (run/warm-run.ts), so it
 * keeps warm exactly what `mino run` with those flags would run.
 */
export function registerPool(program: Command): void {
  const pool = program
    .command('pool')
    .description('Warm containers that make mino run start faster (warm, status, drain)')
    .addHelpText(
      'after',
      `
A warm pool keeps idle containers of exactly one run plan (image, mounts, user mapping, network,
limits, environment...) started; mino run with the same flags in the same project takes one
(podman exec instead of podman run) and never returns it. A run whose plan differs starts cold.
Unused warm containers remove themselves after pool.warm_ttl seconds. See the README.`,
    );

  addRunOptions(
    pool
      .command('warm')
      .description('Keep N containers warm for the plan of mino run with these flags in this project')
      .option('-n, --count <n>', 'number of warm containers (default: pool.min_warm; at most pool.max_warm)')
      .argument('[run-flags...]', 'flags of mino run (--network, --image, --layers, -e, --volume, -p, ...)'),
    { hidden: true },
  )
    .addHelpText(
      'after',
      `
Examples:
  mino pool warm                         # pool.min_warm containers for 'mino run -- CMD' here
  mino pool warm -n 4 --network none     # for 'mino run --network none -- CMD'
  mino pool warm -p ~/src/app --layers typescript`,
    )
    .action(async (_args: string[], opts: RunOptions & { count?: string }, cmd: Command) => {
      const count = opts.count === undefined ? undefined : parseWarmCount(opts.count);
      // The command does not change the plan's container; a placeholder makes it a command run.
      // On a remote engine (--engine, [engine] name, mino engine default) the containers warm there.
      const { ctx, req, facts, io } = await runInputsOf(cmd, opts, ['true']);
      process.exitCode = await warmRun(
        ctx,
        req,
        facts,
        io,
        count ?? req.pool?.minWarm ?? DEFAULT_POOL_SETTINGS.minWarm,
      );
    });

  pool
    .command('status')
    .description("Show the warm pools of this user (read from mino's pool index, no podman call)")
    .option('-f, --format <format>', 'table or json', 'table')
    .option('--engine <name>', "only this engine's pools (local = this machine; default: every engine's)")
    .action(async (opts: { format: string; engine?: string }, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json')
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table or json');
      const { ctx } = sessionCli(cmd);
      const settings = poolSettingsOf((await loadConfigForCli(cmd, projectDirOf(undefined), 'report')).config.pool);
      const status = poolStatus(
        ctx.stateDir,
        settings,
        new Date(),
        opts.engine === undefined ? undefined : engineFilterOf(opts.engine),
      );
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : render(status));
    });

  pool
    .command('drain')
    .description('Remove every warm container and forget the pools (runs start cold; nothing refills)')
    .option('--engine <name>', "only this engine's pools (local = this machine; default: every engine's)")
    .action(async (opts: { engine?: string }, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      const result = await drainPool(ctx, opts.engine === undefined ? {} : { engine: engineFilterOf(opts.engine) });
      notice(`Removed ${result.containers} warm container(s) of ${result.pools} pool(s)`);
      for (const e of result.unreachable)
        process.stderr.write(
          `Warning: engine ${e} did not answer: its warm containers were not removed (they end themselves after pool.warm_ttl)\n`,
        );
    });

  program
    .command(REFILL_COMMAND, { hidden: true })
    .argument('<key>')
    .requiredOption('--max-warm <n>')
    .requiredOption('--ttl <seconds>')
    .option('--remove <container>')
    .action(async (key: string, opts: { maxWarm: string; ttl: string; remove?: string }, cmd: Command) => {
      const { ctx: local } = sessionCli(cmd);
      // A pool on a remote engine is refilled there (its record names the engine).
      const ctx = contextForSessionEngine(local, readPool(local.stateDir, validatePoolKey(key))?.engine);
      await refillPool(ctx, key, {
        maxWarm: parseWhole('--max-warm', opts.maxWarm, 1, 100),
        ttlSeconds: parseWhole('--ttl', opts.ttl, 10, 86400),
        ...(opts.remove === undefined ? {} : { remove: opts.remove }),
      });
    });
}
