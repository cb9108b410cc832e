import { minoPaths } from '../common/xdg-paths.js';
import { builtinLayersDir } from '../image/layers-dir.js';
import type { LayerDirs } from './resolve-layers.js';

/**
 * The layer search directories for a project (or none: an untrusted project's `.mino/layers/`
 * is not searched), from the environment's XDG paths and mino's built-in `layers/` directory
 * (`MINO_LAYERS_DIR` overrides it).
 */
export function defaultLayerDirs(projectDir: string | undefined, env: NodeJS.ProcessEnv = process.env): LayerDirs {
  return {
    ...(projectDir === undefined ? {} : { projectDir }),
    configDir: minoPaths(env).configDir,
    builtinDir: builtinLayersDir(env),
  };
}
