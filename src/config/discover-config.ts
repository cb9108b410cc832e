import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { minoPaths } from '../common/xdg-paths.js';

/** Name of a project's configuration file. */
export const LOCAL_CONFIG_NAME = '.mino.toml';

/**
 * The global configuration file in use: `-c/--config` > `MINO_CONFIG` >
 * `$XDG_CONFIG_HOME/mino/config.toml`. `explicit` is true when the user named the file (then a
 * missing file is an error, not an empty configuration).
 */
export function globalConfigPath(
  cliPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { path: string; explicit: boolean } {
  if (cliPath !== undefined && cliPath !== '') return { path: cliPath, explicit: true };
  if (env.MINO_CONFIG) return { path: env.MINO_CONFIG, explicit: true };
  return { path: join(minoPaths(env).configDir, 'config.toml'), explicit: false };
}

/**
 * The nearest `.mino.toml` in `projectDir` or one of its parents, walking up to `/`: the project's
 * directory decides, not the shell's working directory (mino 1.6 used cwd). Links are not
 * followed (lstat): a `.mino.toml` that is a symbolic link, FIFO or device is returned, so that
 * reading it (readLocalConfigFile in config-file.ts) refuses it loudly instead of a parent's file or the
 * link's target being used; a directory of that name is passed over.
 */
export function findLocalConfig(projectDir: string): string | undefined {
  let dir = projectDir;
  for (;;) {
    const candidate = join(dir, LOCAL_CONFIG_NAME);
    try {
      if (!lstatSync(candidate).isDirectory()) return candidate;
    } catch {
      // not here
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
