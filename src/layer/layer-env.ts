import { hasUserInstall } from './layer-manifest.js';
import type { ResolvedLayer } from './resolve-layers.js';

/**
 * Environment contributed by layers: `[env]` merged in `--layers` order, last wins;
 * PATH directories accumulated without duplicates (ordered by layer name), as `<dirs>:${PATH}` in a Containerfile or as
 * `MINO_PATH_PREPEND` at run time (the base image's entrypoint applies it); `MINO_LAYER_MANIFEST`
 * tells the bootstrap what to install into the home volume.
 */

/**
 * The colon-joined PATH directories of all layers, first occurrence kept; undefined when none.
 * Layers contribute in order of their names, not of `--layers`: the same set of layers always
 * gives the same PATH, so the composed image really is the one its order-independent tag names.
 */
export function computePathPrepend(layers: readonly ResolvedLayer[]): string | undefined {
  const dirs: string[] = [];
  const byName = [...layers].sort((a, b) =>
    a.manifest.name < b.manifest.name ? -1 : a.manifest.name > b.manifest.name ? 1 : 0,
  );
  for (const layer of byName) for (const dir of layer.manifest.pathPrepend) if (!dirs.includes(dir)) dirs.push(dir);
  return dirs.length > 0 ? dirs.join(':') : undefined;
}

/**
 * Merges `[env]` of all layers, later layers winning. `target` says where the result goes:
 * `containerfile` adds `PATH=<dirs>:${PATH}` (expanded by the builder), `runtime` adds
 * `MINO_PATH_PREPEND=<dirs>` (plain values only: `-e` does no expansion).
 */
export function mergeLayerEnv(
  layers: readonly ResolvedLayer[],
  target: 'containerfile' | 'runtime',
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const layer of layers) Object.assign(env, layer.manifest.env);
  const prepend = computePathPrepend(layers);
  if (prepend !== undefined) {
    if (target === 'containerfile') env.PATH = `${prepend}:\${PATH}`;
    else env.MINO_PATH_PREPEND = prepend;
  }
  return env;
}

/**
 * The `MINO_LAYER_MANIFEST` JSON: one `{name, runtime?, runtime_version?, npm_globals?,
 * cargo_tools?, uv_tools?}` per layer with `[user_install]`, empty lists left out (mino 1.6's
 * format). Undefined when no layer has user installs.
 */
export function layerManifestJson(layers: readonly ResolvedLayer[]): string | undefined {
  const entries = layers
    .filter((l) => hasUserInstall(l.manifest))
    .map((l) => {
      const u = l.manifest.userInstall;
      return {
        name: l.manifest.name,
        ...(u.runtime === undefined ? {} : { runtime: u.runtime }),
        ...(u.runtime_version === undefined ? {} : { runtime_version: u.runtime_version }),
        ...(u.npm_globals.length ? { npm_globals: u.npm_globals } : {}),
        ...(u.cargo_tools.length ? { cargo_tools: u.cargo_tools } : {}),
        ...(u.uv_tools.length ? { uv_tools: u.uv_tools } : {}),
      };
    });
  return entries.length > 0 ? JSON.stringify(entries) : undefined;
}

/**
 * Environment to pass to the container at run time. When the layers were composed into an image
 * (`baked`), their `[env]` and PATH are already in it, so only `MINO_LAYER_MANIFEST` and
 * `MINO_PATH_PREPEND` are passed; otherwise the merged `[env]` too.
 */
export function runtimeLayerEnv(layers: readonly ResolvedLayer[], baked: boolean): Record<string, string> {
  const env = baked ? {} : mergeLayerEnv(layers, 'runtime');
  const prepend = computePathPrepend(layers);
  if (prepend !== undefined && env.MINO_PATH_PREPEND === undefined) env.MINO_PATH_PREPEND = prepend;
  const manifest = layerManifestJson(layers);
  if (manifest !== undefined) env.MINO_LAYER_MANIFEST = manifest;
  return env;
}
