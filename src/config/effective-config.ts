import { MinoError } from '../common/errors.js';
import { readConfigFile, type ConfigFile, type RawTable } from './config-file.js';
import { GLOBAL_ONLY_KEYS, configKeys } from './config-keys.js';
import { configSchema, type MinoConfig } from './config-schema.js';
import { memoKeyOf, rememberedResolution, rememberResolution } from './config-memo.js';
import { globalConfigPath } from './discover-config.js';
import { mergeConfig, valueAt } from './merge-config.js';
import { runTrustGate, type TrustGateInput, type TrustGateResult } from './trust-gate.js';

/**
 * The configuration a command runs with: defaults < global file < project `.mino.toml` (when the
 * trust gate lets it through), plus where each value came from. CLI flags and environment
 * variables sit above this and are applied by the caller.
 */

/** Where a value came from. */
export type ValueSource = 'default' | 'global' | 'local';

/** Options of {@link loadEffectiveConfig}. */
export interface LoadConfigOptions extends Omit<TrustGateInput, 'base' | 'env'> {
  /** `-c/--config` value. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
}

/** The loaded configuration. */
export interface EffectiveConfig {
  config: MinoConfig;
  /** Source of every leaf key (dotted path). */
  sources: Record<string, ValueSource>;
  /** The project file's values that are not applied (global-only keys). */
  ignored: IgnoredValues;
  /** The global file in use and whether it exists. */
  globalPath: string;
  global?: ConfigFile;
  /** The trust gate's decision (local file, project layers, `projectLayersDir`). */
  trust: TrustGateResult;
}

/** Reads the global file (`-c` > `MINO_CONFIG` > default); a named file must exist. */
export function loadGlobalConfig(
  cliPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; file?: ConfigFile } {
  const { path, explicit } = globalConfigPath(cliPath, env);
  const file = readConfigFile(path);
  if (!file && explicit) {
    throw new MinoError(`Config file ${path} does not exist`, {
      hint: `Create it with 'mino config init${cliPath ? ` -c ${path}` : ''}', or check -c/--config and MINO_CONFIG`,
    });
  }
  return file ? { path, file } : { path };
}

/** A project-file value that is not applied (a {@link GLOBAL_ONLY_KEYS} key), by dotted path. */
export type IgnoredValues = Record<string, unknown>;

/** `raw` without the global-only keys, and the values it had for them. */
function withoutGlobalOnly(raw: RawTable | undefined): { raw: RawTable | undefined; ignored: IgnoredValues } {
  const ignored: IgnoredValues = {};
  if (raw === undefined) return { raw, ignored };
  let copy: RawTable | undefined;
  for (const path of GLOBAL_ONLY_KEYS) {
    const value = valueAt(raw, path);
    if (value === undefined) continue;
    ignored[path] = value;
    copy ??= structuredClone(raw);
    const parts = path.split('.');
    const table = valueAt(copy, parts.slice(0, -1).join('.')) as RawTable;
    delete table[parts[parts.length - 1]!];
  }
  return { raw: copy ?? raw, ignored };
}

/**
 * Merges raw tables over the defaults and resolves every value's source. The project file's
 * values for global-only keys are left out of the merge and returned as `ignored`.
 */
export function resolveConfig(
  global: RawTable | undefined,
  local: RawTable | undefined,
): { config: MinoConfig; sources: Record<string, ValueSource>; ignored: IgnoredValues } {
  // Defaults applied and sources resolved once per pair of inputs (config-memo.ts): the schema
  // costs more than all the rest of reading a config.
  const memoKey = memoKeyOf([global ?? null, local ?? null]);
  const known = rememberedResolution<ReturnType<typeof resolveConfig>>(memoKey);
  if (known !== undefined) return known;
  const { raw: applied, ignored } = withoutGlobalOnly(local);
  const merged = mergeConfig(global ?? {}, applied ?? {});
  const config = configSchema().parse(merged);
  const sources: Record<string, ValueSource> = {};
  for (const key of configKeys()) {
    sources[key.path] =
      valueAt(applied, key.path) !== undefined
        ? 'local'
        : valueAt(global, key.path) !== undefined
          ? 'global'
          : 'default';
  }
  rememberResolution(memoKey, { config, sources, ignored });
  return { config, sources, ignored };
}

/** Loads the global file, runs the trust gate on the project's files, and merges. */
export async function loadEffectiveConfig(options: LoadConfigOptions): Promise<EffectiveConfig> {
  const env = options.env ?? process.env;
  const { path, file } = loadGlobalConfig(options.configPath, env);
  const trust = await runTrustGate({ ...options, base: file?.raw ?? {}, env });
  const { config, sources, ignored } = resolveConfig(file?.raw, trust.local?.raw);
  return { config, sources, ignored, globalPath: path, ...(file ? { global: file } : {}), trust };
}
