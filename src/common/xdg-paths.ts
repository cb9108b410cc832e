import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Directories mino reads and writes, following the XDG base directory spec on every platform. */
export interface MinoPaths {
  /** `$XDG_CONFIG_HOME/mino` (default `~/.config/mino`). */
  configDir: string;
  /** `$XDG_STATE_HOME/mino` (default `~/.local/state/mino`): sessions, audit log, trust store. */
  stateDir: string;
  /** `$XDG_DATA_HOME/mino` (default `~/.local/share/mino`): build contexts and generated images. */
  dataDir: string;
}

function xdg(env: NodeJS.ProcessEnv, name: string, fallback: string[]): string {
  const value = env[name];
  // The spec says relative paths are invalid and must be ignored.
  if (value && isAbsolute(value)) return value;
  return join(env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir(), ...fallback);
}

/** Resolves mino's directories from the environment (no I/O). */
export function minoPaths(env: NodeJS.ProcessEnv = process.env): MinoPaths {
  return {
    configDir: join(xdg(env, 'XDG_CONFIG_HOME', ['.config']), 'mino'),
    stateDir: join(xdg(env, 'XDG_STATE_HOME', ['.local', 'state']), 'mino'),
    dataDir: join(xdg(env, 'XDG_DATA_HOME', ['.local', 'share']), 'mino'),
  };
}
