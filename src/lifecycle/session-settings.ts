import { loadGlobalConfig, resolveConfig } from '../config/effective-config.js';
import type { MinoConfig } from '../config/config-schema.js';
import type { SweepSettings } from '../session/timeouts.js';

/**
 * The `[session]` settings of the timeout sweep. They come from the user's global configuration
 * only: the sweep acts on every session of the state directory, whatever project it belongs to,
 * so a project's `.mino.toml` cannot shorten or lengthen them.
 */

/** The sweep settings of a resolved configuration. */
export function sweepSettingsOf(config: MinoConfig): SweepSettings {
  const s = config.session;
  return {
    idleSecs: s.idle_timeout_secs,
    detachSecs: s.detach_timeout_secs,
    suspendSecs: s.suspend_timeout_secs,
    autoCleanupHours: s.auto_cleanup_hours,
  };
}

/** The global configuration file resolved over the defaults (no project file). Throws a MinoError for an invalid file. */
export function loadGlobalResolved(configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): MinoConfig {
  const { file } = loadGlobalConfig(configPath, env);
  return resolveConfig(file?.raw, undefined).config;
}

/** Loads the sweep settings from the global config file (`-c` path, MINO_CONFIG or the default). Throws a MinoError for an invalid file. */
export function loadSweepSettings(configPath: string | undefined, env: NodeJS.ProcessEnv = process.env): SweepSettings {
  return sweepSettingsOf(loadGlobalResolved(configPath, env));
}
