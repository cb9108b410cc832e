import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MinoError, UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { defaultLayerDirs } from '../../layer/layer-dirs.js';
import { LAYER_ALIASES } from '../../layer/layer-name.js';
import { listLayers, type LayerListing } from '../../layer/resolve-layers.js';
import { applyGlobalOptions } from '../global-options.js';

const FORMATS = ['table', 'json'] as const;

function table(layers: LayerListing[]): string {
  if (layers.length === 0) return 'No layers found\n';
  const p = palette(process.stdout);
  const head = ['NAME', 'VERSION', 'SOURCE', 'DESCRIPTION', 'DIRECTORY'];
  const rows = layers.map((l) => [
    l.name,
    l.version ?? '-',
    l.shadowedBy ? `${l.source} (shadowed by ${l.shadowedBy})` : l.source,
    l.error ? `error: ${l.error.split('\n')[0]!.replace(/^Invalid layer file \S+: /, '')}` : (l.description ?? ''),
    l.dir,
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => Math.min((r[i] ?? '').length, i === 3 ? 60 : 200))),
  );
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const out = [p.bold(line(head))];
  rows.forEach((r, k) => {
    const l = layers[k]!;
    const text = line(r);
    out.push(l.error ? p.red(text) : l.shadowedBy ? p.dim(text) : text);
  });
  const aliases = Object.entries(LAYER_ALIASES)
    .map(([a, t]) => `${a} → ${t}`)
    .join(', ');
  out.push('', p.dim(`Aliases: ${aliases}. Use with: mino run --layers NAME[,NAME...]`));
  return `${out.join('\n')}\n`;
}

/** `mino layers list`: every layer mino can find, where it comes from, and which one wins. */
export function registerLayers(program: Command): void {
  const layers = program
    .command('layers')
    .description('Show the layers that --layers can compose (project, user and built-in)');
  layers
    .command('list', { isDefault: true })
    .alias('ls')
    .description('List available layers: project .mino/layers/, $XDG_CONFIG_HOME/mino/layers/, built-in')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-p, --project <dir>', 'project directory whose .mino/layers/ is searched (default: current directory)')
    .addHelpText(
      'after',
      `
A layer in a project shadows a user layer of the same name, which shadows a built-in one.
JSON: an array of {name, version, description, source, directory, shadowed, shadowed_by, error}.`,
    )
    .action(async (opts: { format: string; project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      if (!(FORMATS as readonly string[]).includes(opts.format)) {
        throw new UsageError(`Invalid format '${opts.format}'`, 'Use --format table or json');
      }
      let projectDir: string;
      try {
        projectDir = realpathSync(resolve(opts.project ?? process.cwd()));
      } catch (err) {
        throw new MinoError(`Project directory ${opts.project ?? process.cwd()} does not exist`, {
          cause: err,
          exitCode: 2,
        });
      }
      const found = await listLayers(defaultLayerDirs(projectDir));
      if (opts.format === 'json') {
        const json = found.map((l) => ({
          name: l.name,
          version: l.version ?? null,
          description: l.description ?? null,
          source: l.source,
          directory: l.dir,
          shadowed: l.shadowedBy !== undefined,
          shadowed_by: l.shadowedBy ?? null,
          error: l.error ?? null,
        }));
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      } else {
        process.stdout.write(table(found));
      }
    });
  for (const sub of layers.commands)
    sub
      .exitOverride()
      .configureOutput({ outputError: () => undefined })
      .showSuggestionAfterError(true);
  layers.exitOverride().configureOutput({ outputError: () => undefined });
}
