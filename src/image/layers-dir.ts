import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hasEmbeddedAssets } from '../common/embedded-assets.js';
import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { embeddedLayersDir } from './embedded-layers.js';

/**
 * Where the built-in `layers/` directory is: in the single executable (dist/mino), the tree
 * embedded in the binary, written out under the user's data directory on first need; otherwise
 * next to `dist/` in a built or installed mino (`dist/mino.cjs` → `../layers`), or at the
 * checkout root when running from source (`src/image/` → `../../layers`).
 */

/** Directories searched for `layers/`, nearest first, from the directory of the running module. */
function layersDirCandidates(moduleDir: string): string[] {
  return [resolve(moduleDir, '..', 'layers'), resolve(moduleDir, '..', '..', 'layers')];
}

function moduleDir(): string {
  // The CommonJS bundle has __dirname; under vitest this file is an ES module. (In the single
  // executable __dirname is the build machine's dist/, frozen in the start-up snapshot: never
  // used there, the embedded tree comes first.)
  if (typeof __dirname === 'string') return __dirname;
  return dirname(new URL(import.meta.url).pathname);
}

/**
 * The built-in layers directory (containing `base/Containerfile`). `MINO_LAYERS_DIR` overrides
 * it (for development). Throws when it cannot be found: a broken installation.
 */
export function builtinLayersDir(env: NodeJS.ProcessEnv = process.env): string {
  const forced = env.MINO_LAYERS_DIR;
  if (!forced && hasEmbeddedAssets()) {
    const embedded = embeddedLayersDir(minoPaths(env).dataDir);
    if (embedded !== undefined) return embedded;
  }
  const candidates = forced ? [resolve(forced)] : layersDirCandidates(moduleDir());
  for (const dir of candidates) {
    if (existsSync(join(dir, 'base', 'Containerfile'))) return dir;
  }
  throw new MinoError(`mino's built-in layers are missing (looked in ${candidates.join(', ')})`, {
    hint: 'Reinstall mino: the package ships a layers/ directory next to dist/',
  });
}
