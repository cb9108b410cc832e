import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/test-env.js';
import { loadLayer, type ResolvedLayer } from '../../../src/layer/resolve-layers.js';

/** test/fixtures/layer */
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'layer');
/** The repository's built-in layers. */
export const BUILTIN_DIR = join(REPO_ROOT, 'layers');
/** A base image ID used by the pure tests. */
export const BASE_ID = 'a'.repeat(64);
/** Another one. */
export const OTHER_BASE_ID = 'b'.repeat(64);

/** Loads a fixture layer from test/fixtures/layer/layers/<name>. */
export function fixtureLayer(name: string): Promise<ResolvedLayer> {
  return loadLayer(join(FIXTURES, 'layers', name), name, 'project');
}

/** Loads a built-in layer from layers/<name>. */
export function builtinLayer(name: string): Promise<ResolvedLayer> {
  return loadLayer(join(BUILTIN_DIR, name), name, 'built-in');
}

/** A deep copy of a layer, changed by `edit`. */
export function changed(layer: ResolvedLayer, edit: (l: ResolvedLayer) => void): ResolvedLayer {
  const copy = structuredClone(layer);
  edit(copy);
  return copy;
}
