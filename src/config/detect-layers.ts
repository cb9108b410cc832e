import { lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Files whose presence suggests a built-in layer for `mino init`, most telling first. */
const LAYER_HINT_FILES: Readonly<Record<string, readonly string[]>> = {
  typescript: ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb', 'package.json'],
  python: ['uv.lock', 'poetry.lock', 'Pipfile.lock', 'requirements.txt', 'pyproject.toml'],
  rust: ['Cargo.lock', 'Cargo.toml'],
};

/** One suggested layer and the file that suggested it. */
export interface LayerSuggestion {
  layer: string;
  file: string;
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/** Layers suggested by the lockfiles and manifests directly in `projectDir` (regular files only, links are not followed). */
export function detectLayers(projectDir: string): LayerSuggestion[] {
  const out: LayerSuggestion[] = [];
  for (const [layer, files] of Object.entries(LAYER_HINT_FILES)) {
    const file = files.find((f) => isRegularFile(join(projectDir, f)));
    if (file) out.push({ layer, file });
  }
  return out;
}
