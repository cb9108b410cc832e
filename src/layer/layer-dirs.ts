import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { minoPaths } from '../common/xdg-paths.js';
import type { LayerDirs } from './resolve-layers.js';

/**
 * Where the built-in layers (`layers/<name>/layer.toml`) live: the `layers/` directory of the mino
 * package, found relative to the running code. From the bundle (`dist/mino.cjs`) it is
 * `../layers`; from the TypeScript sources (`src/layer/`, under vitest, which also provides
 * `__dirname`) `../../layers`. `MINO_LAYERS_DIR` overrides it, as for the base image
 * (src/image/layers-dir.ts). Tests and packagers can also pass their own directory to the resolver.
 */
export function defaultBuiltinLayersDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MINO_LAYERS_DIR) return resolve(env.MINO_LAYERS_DIR);
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const candidates = [resolve(here, '..', 'layers'), resolve(here, '..', '..', 'layers')];
  return candidates.find((dir) => existsSync(join(dir, 'typescript', 'layer.toml'))) ?? candidates[0]!;
}

/** The layer search directories for a project (or none), from the environment's XDG paths. */
export function defaultLayerDirs(projectDir: string | undefined, env: NodeJS.ProcessEnv = process.env): LayerDirs {
  return {
    ...(projectDir === undefined ? {} : { projectDir }),
    configDir: minoPaths(env).configDir,
    builtinDir: defaultBuiltinLayersDir(env),
  };
}
