import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MinoError } from '../common/errors.js';

/**
 * Where the built-in `layers/` directory is: next to `dist/` in a built or installed mino
 * (`dist/mino.cjs` → `../layers`), or at the checkout root when running from source
 * (`src/image/` → `../../layers`).
 */

/** Directories searched for `layers/`, nearest first, from the directory of the running module. */
export function layersDirCandidates(moduleDir: string): string[] {
  return [resolve(moduleDir, '..', 'layers'), resolve(moduleDir, '..', '..', 'layers')];
}

function moduleDir(): string {
  // The CommonJS bundle has __dirname; under vitest this file is an ES module.
  if (typeof __dirname === 'string') return __dirname;
  return dirname(new URL(import.meta.url).pathname);
}

/**
 * The built-in layers directory (containing `base/Containerfile`). `MINO_LAYERS_DIR` overrides
 * it (for development). Throws when it cannot be found: a broken installation.
 */
export function builtinLayersDir(env: NodeJS.ProcessEnv = process.env): string {
  const forced = env.MINO_LAYERS_DIR;
  const candidates = forced ? [resolve(forced)] : layersDirCandidates(moduleDir());
  for (const dir of candidates) {
    if (existsSync(join(dir, 'base', 'Containerfile'))) return dir;
  }
  throw new MinoError(`mino's built-in layers are missing (looked in ${candidates.join(', ')})`, {
    hint: 'Reinstall mino: the package ships a layers/ directory next to dist/',
  });
}
