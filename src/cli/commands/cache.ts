import type { Command } from 'commander';
import {
  bytesOf,
  forgetOrphanSidecars,
  gatherInventory,
  projectCacheInfo,
  removeTargets,
  type GatheredInventory,
  type Removal,
} from '../../resources/manage-caches.js';
import { selectForClear, selectForGc, targetName, type Decision, type Selection } from '../../cache/cache-selection.js';
import { MinoError, UsageError } from '../../common/errors.js';
import { isInteractive, palette } from '../../common/terminal.js';
import { loadEffectiveConfig } from '../../config/effective-config.js';
import { formatSize } from '../../volume/parse-size.js';
import { addConfigOptions, projectDirOf, readConfigFlags } from '../config-options.js';
import { credentialCacheOf } from '../../run/gather-credentials.js';
import { sessionCli } from '../global-options.js';
import { contextForSessionEngine } from '../engine-context.js';
import { LOCAL_ENGINE, validateEngineName } from '../../engine/engine-name.js';
import type { SessionContext } from '../../context/session-context.js';
import { confirm } from '../prompt.js';
import { cacheTables, inventoryJson, totalLine } from '../cache-render.js';

const FORMATS = ['table', 'json', 'plain'] as const;

/** The `[cache]` settings, from the global config only: a project file must not steer gc. */
async function cacheSettings(cmd: Command): Promise<{ maxTotalGb: number; gcDays: number }> {
  const eff = await loadEffectiveConfig({
    ...readConfigFlags(cmd),
    noLocal: true,
    projectDir: process.cwd(),
    interactive: false,
    mode: 'report',
    say: (line) => process.stderr.write(`${line}\n`),
  });
  return { maxTotalGb: eff.config.cache.max_total_gb, gcDays: eff.config.cache.gc_days };
}

function parseDays(text: string): number {
  if (!/^\d{1,4}$/.test(text) || Number(text) > 3650) {
    throw new UsageError(
      `Invalid --days '${text}': expected a whole number of days from 0 to 3650`,
      'e.g. --days 30; 0 keeps caches whatever their age',
    );
  }
  return Number(text);
}

function warn(inv: Pick<GatheredInventory, 'warnings'>): void {
  for (const w of inv.warnings) process.stderr.write(`Warning: ${w}\n`);
}

function describe(d: Decision): string {
  const t = d.target;
  const size = 'ref' in t ? t.ownBytes : t.sizeBytes;
  return `${targetName(t)}${size === undefined ? '' : ` (${formatSize(size)})`}: ${d.reason}`;
}

function printSelection(sel: Selection, verb: string): void {
  for (const d of sel.remove) process.stdout.write(`${verb} ${describe(d)}\n`);
  for (const d of sel.keep) process.stdout.write(`keep ${targetName(d.target)}: ${d.reason}\n`);
}

function printRemovals(results: readonly Removal[]): number {
  let failed = 0;
  for (const r of results) {
    if (r.removed) process.stdout.write(`removed ${describe(r.decision)}\n`);
    else {
      failed++;
      process.stdout.write(`kept ${targetName(r.decision.target)}: ${r.error ?? 'podman refused'}\n`);
    }
  }
  const freed = bytesOf(results.filter((r) => r.removed).map((r) => r.decision));
  process.stdout.write(`Removed ${results.length - failed} item(s), freed about ${formatSize(freed)}\n`);
  return failed;
}

/**
 * The context of a `mino cache` command: this machine's engine, or the one `--engine NAME` names
 * (its volumes and images; caches and home volumes there are keyed as here).
 */
function cacheCli(cmd: Command): { ctx: SessionContext } {
  const { ctx } = sessionCli(cmd);
  const engine = (cmd.opts() as { engine?: string }).engine;
  if (engine === undefined || engine === LOCAL_ENGINE) return { ctx };
  return { ctx: contextForSessionEngine(ctx, validateEngineName(engine)) };
}

const ENGINE_FLAG = '--engine <name>';
const ENGINE_HELP = "act on this engine's caches and images (see mino engine list; default: this machine's)";

/** `mino cache`: dependency caches, home volumes and mino's images. */
export function registerCache(program: Command): void {
  const cache = addConfigOptions(
    program.command('cache').description('Dependency caches, home volumes and mino images: list, inspect, gc, clear'),
    true,
  ).addHelpText(
    'after',
    `
Nothing a running session uses is ever removed, and only mino's own volumes and images are
touched (no container is pruned). Limits come from the global config: cache.max_total_gb
(the budget for dependency caches plus composed images) and cache.gc_days.`,
  );

  cache
    .command('list')
    .option(ENGINE_FLAG, ENGINE_HELP)
    .alias('ls')
    .description('List dependency caches, home volumes and mino images with their sizes')
    .option('-f, --format <format>', 'table, json or plain', 'table')
    .addHelpText(
      'after',
      `
JSON: {caches: [{name, ecosystem, hash, state, size_bytes, created_at, last_used, in_use_by}],
home_volumes: [{name, project_path, project_exists, size_bytes, created_at, in_use_by}],
images: [{name, kind (composed, base, egress, ca-bundle), id, size_bytes, own_bytes, stale, layers, in_use_by}],
total_size_bytes, limit_bytes, usage_percent}. plain: one volume or image name per line.`,
    )
    .action(async (opts: { format: string }, cmd: Command) => {
      if (!(FORMATS as readonly string[]).includes(opts.format))
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table, json or plain');
      const settings = await cacheSettings(cmd);
      const { ctx } = cacheCli(cmd);
      const inv = await gatherInventory(ctx, { images: true, limitGb: settings.maxTotalGb });
      warn(inv);
      if (opts.format === 'json') process.stdout.write(`${JSON.stringify(inventoryJson(inv), null, 2)}\n`);
      else if (opts.format === 'plain') {
        process.stdout.write(
          [...inv.caches.map((c) => c.name), ...inv.homes.map((h) => h.name), ...inv.images.map((i) => i.ref)]
            .map((n) => `${n}\n`)
            .join(''),
        );
      } else process.stdout.write(cacheTables(inv, palette(process.stdout)));
    });

  cache
    .command('info')
    .option(ENGINE_FLAG, ENGINE_HELP)
    .description("Show a project's lockfiles, the state of their caches and its home volume")
    .option('-p, --project <dir>', 'project directory (default: current directory)')
    .action(async (opts: { project?: string }, cmd: Command) => {
      const projectDir = projectDirOf(opts.project);
      const settings = await cacheSettings(cmd);
      const { ctx } = cacheCli(cmd);
      const info = await projectCacheInfo(ctx, projectDir, settings.maxTotalGb);
      warn(info);
      const out: string[] = [`Project: ${info.projectDir}`];
      if (info.caches.length === 0) out.push('Lockfiles: none (runs mount no dependency cache)');
      for (const c of info.caches) {
        const mode =
          c.state === 'complete'
            ? 'complete (reused; read-only with --cache-ro)'
            : c.state === 'building'
              ? 'building (mounted read-write until a run exits 0)'
              : 'miss (the next run creates it)';
        out.push(
          `  ${c.ecosystem.padEnd(7)} ${c.lockfile} ${c.hash}  ${c.volume}  ${mode}${c.sizeBytes === undefined ? '' : `  ${formatSize(c.sizeBytes)}`}`,
        );
      }
      out.push(
        `Home volume: ${info.home.name}${info.home.exists ? `${info.home.sizeBytes === undefined ? '' : ` (${formatSize(info.home.sizeBytes)})`}` : ' (not created yet)'}`,
      );
      out.push(`Project total: ${formatSize(info.projectBytes)}`);
      out.push(totalLine(info.totalBytes, info.limitBytes));
      process.stdout.write(`${out.join('\n')}\n`);
    });

  cache
    .command('gc')
    .option(ENGINE_FLAG, ENGINE_HELP)
    .description(
      'Remove caches unused for N days, caches replaced by --cache-fresh, and home volumes of deleted projects',
    )
    .option('--days <n>', 'age by last use, in days (default: config cache.gc_days, 30; 0 = keep caches by age)')
    .option('--dry-run', 'list exactly what would be removed, remove nothing')
    .action(async (opts: { days?: string; dryRun?: boolean }, cmd: Command) => {
      const settings = await cacheSettings(cmd);
      const days = opts.days === undefined ? settings.gcDays : parseDays(opts.days);
      const { ctx } = cacheCli(cmd);
      const inv = await gatherInventory(ctx, { images: false, limitGb: settings.maxTotalGb });
      warn(inv);
      const sel = selectForGc(inv, { days, now: new Date() });
      if (opts.dryRun) {
        printSelection(sel, 'would remove');
        for (const s of inv.orphanSidecars)
          process.stdout.write(`would forget cache record ${s.volume_name}: its volume is gone\n`);
        if (sel.remove.length === 0) process.stdout.write('Nothing to remove\n');
        return;
      }
      for (const v of forgetOrphanSidecars(ctx, inv))
        process.stdout.write(`forgot cache record ${v}: its volume is gone\n`);
      for (const d of sel.keep) process.stdout.write(`keep ${targetName(d.target)}: ${d.reason}\n`);
      if (sel.remove.length === 0) {
        process.stdout.write('Nothing to remove\n');
        return;
      }
      if (printRemovals(await removeTargets(ctx, sel.remove)) > 0) process.exitCode = 1;
    });

  cache
    .command('clear')
    .option(ENGINE_FLAG, ENGINE_HELP)
    .description('Remove all dependency caches, home volumes and/or composed images (asks first)')
    .option('--volumes', 'dependency cache volumes')
    .option(
      '--images',
      'composed images, egress proxy images and unused CA bundle secrets (remote engines) and base images of older mino versions (the current base image stays)',
    )
    .option('--home', 'per-project home volumes (shell history, logins kept in /home/developer)')
    .option('--credentials', 'cached cloud tokens (AWS, GCP, Azure); the next run asks the CLIs again')
    .option('--all', 'all of the above')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `
Without a terminal to ask on, clear needs -y: it prints what it would remove and exits 1
(mino 1.6 printed "Aborted." and exited 0, which scripts could not tell from success).`,
    )
    .action(
      async (
        opts: {
          volumes?: boolean;
          images?: boolean;
          home?: boolean;
          credentials?: boolean;
          all?: boolean;
          yes?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.all && (opts.volumes || opts.images || opts.home || opts.credentials))
          throw new UsageError(
            '--all cannot be combined with --volumes, --images, --home or --credentials',
            'Use --all alone, or name what to clear',
          );
        if (!opts.all && !opts.volumes && !opts.images && !opts.home && !opts.credentials)
          throw new UsageError(
            'Say what to clear: --volumes, --images, --home, --credentials or --all',
            "See 'mino cache clear --help'",
          );
        if (opts.all || opts.credentials) {
          // Tokens are cheap to get again and nothing else refers to them: no confirmation.
          const { ctx } = cacheCli(cmd);
          const n = credentialCacheOf(ctx.stateDir).clear();
          process.stdout.write(`Removed ${n} cached credential${n === 1 ? '' : 's'}\n`);
          if (!opts.all && !opts.volumes && !opts.images && !opts.home) return;
        }
        const scope = {
          volumes: Boolean(opts.all || opts.volumes),
          images: Boolean(opts.all || opts.images),
          home: Boolean(opts.all || opts.home),
        };
        const settings = await cacheSettings(cmd);
        const { ctx } = cacheCli(cmd);
        const inv = await gatherInventory(ctx, { images: scope.images, limitGb: settings.maxTotalGb });
        warn(inv);
        const sel = selectForClear(inv, scope);
        if (sel.remove.length === 0) {
          for (const d of sel.keep) process.stdout.write(`keep ${targetName(d.target)}: ${d.reason}\n`);
          process.stdout.write('Nothing to remove\n');
          return;
        }
        if (!opts.yes) {
          printSelection(sel, 'will remove');
          if (!isInteractive()) {
            throw new MinoError(`Not removing ${sel.remove.length} item(s): no terminal to confirm on`, {
              hint: 'Re-run with -y to remove them',
            });
          }
          if (!(await confirm(`Remove ${sel.remove.length} item(s), about ${formatSize(bytesOf(sel.remove))}?`))) {
            process.stdout.write('Aborted.\n');
            return;
          }
        } else {
          for (const d of sel.keep) process.stdout.write(`keep ${targetName(d.target)}: ${d.reason}\n`);
        }
        if (printRemovals(await removeTargets(ctx, sel.remove)) > 0) process.exitCode = 1;
      },
    );
}
