import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { MinoError, UsageError } from '../../common/errors.js';
import { palette } from '../../common/terminal.js';
import { editConfigFile } from '../../config/config-edit.js';
import { GLOBAL_ONLY_KEYS, configKeys, configTables } from '../../config/config-keys.js';
import { globalTemplate } from '../../config/config-template.js';
import { parseKeyValue, resolveKeyTarget } from '../../config/config-value.js';
import { findLocalConfig, globalConfigPath } from '../../config/discover-config.js';
import { resolveConfig, type EffectiveConfig } from '../../config/effective-config.js';
import { readConfigFile, type RawTable } from '../../config/config-file.js';
import { editLocalConfig } from '../../config/local-config-edit.js';
import { valueAt } from '../../config/merge-config.js';
import { tomlValue } from '../../common/toml-edit.js';
import { poolSettingsOf } from '../../pool/pool-settings.js';
import { checkConfigVolumes } from '../../run/volume-sources.js';
import { applyGlobalOptions } from '../global-options.js';
import { addConfigOptions, loadConfigForCli, projectDirOf, readConfigFlags } from '../config-options.js';

function fileLine(label: string, path: string | undefined, status: string): string {
  return `# ${label}: ${path ?? '(none)'}${status ? ` (${status})` : ''}`;
}

const STATUS_TEXT: Record<string, string> = {
  absent: '',
  disabled: 'ignored: --no-local',
  harmless: 'applied; no key needs trust',
  trusted: 'applied; trusted',
  'trusted-once': 'applied; --trust-local',
  approved: 'applied; trusted',
  skipped: 'not applied: untrusted',
  untrusted: "not applied: untrusted; review it, then run 'mino trust'",
};

function showText(eff: EffectiveConfig): string {
  const p = palette(process.stdout);
  const lines = [
    p.dim(fileLine('global config', eff.globalPath, eff.global ? '' : 'not found')),
    p.dim(fileLine('project config', eff.trust.localPath, STATUS_TEXT[eff.trust.localStatus] ?? '')),
    p.dim(fileLine('project layers', eff.trust.layersDir, STATUS_TEXT[eff.trust.layersStatus] ?? '')),
  ];
  for (const table of configTables()) {
    lines.push('', p.bold(`[${table}]`));
    for (const key of configKeys().filter((k) => k.table === table)) {
      const value = valueAt(eff.config as never, key.path);
      const text = value === undefined ? `# ${key.name} (unset)` : `${key.name} = ${tomlValue(value)}`;
      const source = eff.sources[key.path]!;
      const ignored =
        key.path in eff.ignored
          ? `; ${key.name} = ${tomlValue(eff.ignored[key.path])} in the project file is ignored (global config only)`
          : '';
      lines.push(`${text.padEnd(40)}  ${p.dim(`# ${source}${ignored}`)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function showJson(eff: EffectiveConfig): string {
  const values: Record<string, { value: unknown; source: string; ignored_local?: unknown }> = {};
  for (const key of configKeys()) {
    values[key.path] = {
      value: valueAt(eff.config as never, key.path) ?? null,
      source: eff.sources[key.path]!,
      ...(key.path in eff.ignored ? { ignored_local: eff.ignored[key.path] } : {}),
    };
  }
  return `${JSON.stringify(
    {
      global: { path: eff.globalPath, exists: eff.global !== undefined },
      local: { path: eff.trust.localPath ?? null, status: eff.trust.localStatus },
      layers: { path: eff.trust.layersDir ?? null, status: eff.trust.layersStatus },
      values,
    },
    null,
    2,
  )}\n`;
}

function sub(command: Command, name: string, description: string, fileOnly = false): Command {
  return addConfigOptions(command.command(name, { isDefault: name === 'show' }).description(description), fileOnly);
}

/** `mino config show|path|init|set|get|unset`. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('Show and edit the configuration (global config.toml and the project .mino.toml)');

  sub(config, 'show', 'Print the configuration in effect and where each value comes from')
    .option('--json', 'print JSON: {global, local, layers, values: {"table.key": {value, source}}}')
    .option('-p, --project <dir>', 'project whose .mino.toml is merged (default: current directory)')
    .addHelpText(
      'after',
      `
Sources: default, global (config.toml) or local (.mino.toml). An untrusted project file is listed
but not applied; nothing is prompted here. The [session] timeouts are read from the global file
only: a project's values for them are shown as ignored (JSON: ignored_local). JSON: unset values are null; status is one of absent,
disabled, harmless, trusted, trusted-once, approved, skipped, untrusted.`,
    )
    .action(async (opts: { json?: boolean; project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const eff = await loadConfigForCli(cmd, projectDirOf(opts.project), 'report');
      process.stdout.write(opts.json ? showJson(eff) : showText(eff));
    });

  sub(config, 'path', 'Print the path of the global config file in use (honours -c and MINO_CONFIG)', true)
    .option('--local', "print the project's .mino.toml instead (exit 1 when there is none)")
    .option('-p, --project <dir>', 'project directory (default: current directory)')
    .action((opts: { local?: boolean; project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      if (opts.local) {
        const local = findLocalConfig(projectDirOf(opts.project));
        if (!local) {
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`${local}\n`);
        return;
      }
      process.stdout.write(`${globalConfigPath(readConfigFlags(cmd).configPath).path}\n`);
    });

  sub(config, 'init', 'Write a commented global config file with every key and its default', true)
    .option('-f, --force', 'overwrite an existing file')
    .action((opts: { force?: boolean }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const { path } = globalConfigPath(readConfigFlags(cmd).configPath);
      if (existsSync(path) && !opts.force) {
        throw new MinoError(`${path} already exists`, {
          hint: "Use 'mino config init -f' to overwrite it, or 'mino config set' to change one key",
        });
      }
      writeFileAtomic(path, globalTemplate(), { mode: 0o644, mkdirMode: 0o700 });
      process.stdout.write(`Wrote ${path}\n`);
    });

  sub(config, 'set', 'Set one key (only that line of the file changes; comments are kept)', true)
    .argument('<key>', 'dotted key, e.g. container.network or container.env.EDITOR')
    .argument('<value>', 'value: true/false, a number, a string, a,b,c or ["a","b"] for lists, { K = "v" } for tables')
    .option('--local', "edit the project's .mino.toml instead of the global file")
    .option('-p, --project <dir>', 'project directory for --local (default: current directory)')
    .action((key: string, value: string, opts: { local?: boolean; project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const target = resolveKeyTarget(key);
      edit(cmd, target, parseKeyValue(target, value), opts);
    });

  sub(config, 'unset', 'Remove one key from the file (its default applies again)', true)
    .argument('<key>', 'dotted key, e.g. container.network or container.env.EDITOR')
    .option('--local', "edit the project's .mino.toml instead of the global file")
    .option('-p, --project <dir>', 'project directory for --local (default: current directory)')
    .action((key: string, opts: { local?: boolean; project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      edit(cmd, resolveKeyTarget(key), undefined, opts);
    });

  sub(config, 'get', 'Print the value in effect for one key (exit 1 when unset)')
    .argument('<key>', 'dotted key, e.g. container.network')
    .option('-p, --project <dir>', 'project whose .mino.toml is merged (default: current directory)')
    .action(async (key: string, opts: { project?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const target = resolveKeyTarget(key);
      const eff = await loadConfigForCli(cmd, projectDirOf(opts.project), 'report');
      const value = valueAt(eff.config as never, target.path);
      if (value === undefined) {
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
    });

  for (const c of config.commands)
    c.exitOverride()
      .configureOutput({ outputError: () => undefined })
      .showSuggestionAfterError(true);
  config.exitOverride().configureOutput({ outputError: () => undefined });
}

function edit(
  cmd: Command,
  target: ReturnType<typeof resolveKeyTarget>,
  value: unknown,
  opts: { local?: boolean; project?: string },
): void {
  const verb = value === undefined ? 'Removed' : 'Set';
  // Keys that relate to each other (pool.min_warm ≤ pool.max_warm) are checked in the merged
  // configuration the edit makes: the global file, a project's file over it, defaults beneath.
  // A volume every run would refuse (the volume guard) is refused here, before it is written.
  const relations = (globalRaw: RawTable | undefined, localRaw: RawTable | undefined): void => {
    const merged = resolveConfig(globalRaw, localRaw).config;
    void poolSettingsOf(merged.pool);
    if (value !== undefined && target.path.startsWith('container.volumes'))
      checkConfigVolumes(merged.container.volumes);
  };
  const { path } = globalConfigPath(readConfigFlags(cmd).configPath);
  if (opts.local && value !== undefined && GLOBAL_ONLY_KEYS.includes(target.key.path)) {
    throw new UsageError(
      `${target.path} is read from the global config only: a project's .mino.toml cannot change it`,
      `Nothing was written; set it for every session with: mino config set ${target.path} ${tomlValue(value)}`,
    );
  }
  if (opts.local) {
    const globalRaw = globalRawOrNone(path);
    const r = editLocalConfig(projectDirOf(opts.project), target, value, process.env, (raw) =>
      relations(globalRaw, raw),
    );
    process.stdout.write(
      r.changed ? `${verb} ${target.path} in ${r.path}\n` : `${r.path} already has that; nothing changed\n`,
    );
    if (r.untrusted) {
      process.stderr.write(
        `Warning: ${r.path} is not trusted, so mino will not apply it; review it, then run 'mino trust'\n`,
      );
    }
    return;
  }
  const r = editConfigFile(path, target, value, { mkdirMode: 0o700, check: (raw) => relations(raw, undefined) });
  process.stdout.write(
    r.changed ? `${verb} ${target.path} in ${path}\n` : `${path} already has that; nothing changed\n`,
  );
}

/** The global file's table for the relation check of a `--local` edit; none when it is missing or broken (every run reports that itself). */
function globalRawOrNone(path: string): RawTable | undefined {
  try {
    return readConfigFile(path)?.raw;
  } catch {
    return undefined;
  }
}
