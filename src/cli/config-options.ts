import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MinoError } from '../common/errors.js';
import { isInteractive } from '../common/terminal.js';
import { loadEffectiveConfig, type EffectiveConfig } from '../config/effective-config.js';
import { confirm } from './prompt.js';

/**
 * The configuration flags (`-c/--config`, `--no-local`, `--trust-local`, `--strict-local`) and
 * loading the configuration for a command. The flags are accepted before the command (`mino -c
 * f run`) and after it (`mino run --trust-local`); nothing is read until a command asks.
 */

/** The configuration flags of one invocation. */
export interface ConfigFlags {
  configPath?: string;
  noLocal: boolean;
  trustLocal: boolean;
  strictLocal: boolean;
}

/**
 * Adds the configuration flags to a command; `fileOnly` adds just `-c/--config` (for commands
 * that edit a file and have their own `--local`).
 */
export function addConfigOptions(command: Command, fileOnly = false): Command {
  command.option(
    '-c, --config <file>',
    'global config file (default: $XDG_CONFIG_HOME/mino/config.toml, or $MINO_CONFIG)',
  );
  if (fileOnly) return command;
  return command
    .option('--no-local', "ignore the project's .mino.toml and .mino/layers")
    .option(
      '--trust-local',
      "trust the project's .mino.toml and .mino/layers for this invocation (or MINO_TRUST_LOCAL=1)",
    )
    .option('--strict-local', 'fail instead of skipping untrusted project content');
}

/** Reads the configuration flags from a command and its parents, plus MINO_TRUST_LOCAL. */
export function readConfigFlags(command: Command, env: NodeJS.ProcessEnv = process.env): ConfigFlags {
  const flags: ConfigFlags = {
    noLocal: false,
    trustLocal: /^(1|true|yes)$/i.test(env.MINO_TRUST_LOCAL ?? ''),
    strictLocal: false,
  };
  for (let c: Command | null = command; c; c = c.parent) {
    const o = c.opts() as { config?: string; local?: boolean; trustLocal?: boolean; strictLocal?: boolean };
    if (o.config !== undefined && flags.configPath === undefined) flags.configPath = o.config;
    if (o.local === false) flags.noLocal = true;
    if (o.trustLocal) flags.trustLocal = true;
    if (o.strictLocal) flags.strictLocal = true;
  }
  return flags;
}

/** The canonical project directory (`-p DIR` or the current directory); exit 2 when missing. */
export function projectDirOf(dir: string | undefined): string {
  const path = resolve(dir ?? process.cwd());
  try {
    const real = realpathSync(path);
    if (statSync(real).isDirectory()) return real;
  } catch {
    // reported below
  }
  throw new MinoError(`Project directory ${path} does not exist or is not a directory`, {
    hint: 'Pass an existing directory with -p',
    exitCode: 2,
  });
}

/**
 * Loads the configuration for a command: global file, then the project's files through the trust
 * gate (prompting when a person is at the terminal). `report` never prompts, warns or fails.
 */
export function loadConfigForCli(
  command: Command,
  projectDir: string,
  mode: 'enforce' | 'report' = 'enforce',
): Promise<EffectiveConfig> {
  const flags = readConfigFlags(command);
  return loadEffectiveConfig({
    ...flags,
    projectDir,
    interactive: isInteractive(),
    confirm,
    // Not silenced by --quiet: this is the trust prompt and its warnings.
    say: (line) => process.stderr.write(`${line}\n`),
    mode,
  });
}
