import { createHash } from 'node:crypto';
import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { mergeLayerEnv } from './layer-env.js';
import type { ResolvedLayer } from './resolve-layers.js';

/**
 * The content address of a composed image: SHA-256 over the base image and, for each
 * layer sorted by name, its name, install script, version, root packages and `[user_install]`.
 * Gaps of mino 1.6 closed here: the base is its image ID (a rebuilt `mino-base` changes the tag,
 * a retag does not), each layer's `[env]` and PATH directories count, and so does the merged
 * environment (when two layers set one variable, `--layers` order decides the value). The inputs
 * are hashed as one JSON document, so no two different inputs can run together into the same
 * bytes. The order of `--layers` alone does not change the tag.
 */

/** Name prefix of every composed image. */
const COMPOSED_IMAGE_PREFIX = 'mino-composed-';

/** Bumped when the generated Containerfile changes shape, so old images are not reused. */
const COMPOSE_FORMAT = 1;

/** Returns the 64-hex image ID (with or without `sha256:`), or throws. */
export function normalizeImageId(id: string): string {
  const m = /^(?:sha256:)?([a-f0-9]{64})$/.exec(id);
  if (!m) {
    throw new MinoError(`Invalid base image ID '${printable(id)}'`, {
      hint: 'Pass the full 64-hex ID from `podman image inspect --format {{.Id}}`',
    });
  }
  return m[1]!;
}

/** The JSON document hashed for the tag (exported for tests and `--dry-run` style output). */
function composeHashInput(baseImageId: string, layers: readonly ResolvedLayer[]): string {
  const sorted = [...layers].sort((a, b) =>
    a.manifest.name < b.manifest.name ? -1 : a.manifest.name > b.manifest.name ? 1 : 0,
  );
  const entries = (env: Record<string, string>): Array<[string, string]> =>
    Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    format: COMPOSE_FORMAT,
    base: normalizeImageId(baseImageId),
    layers: sorted.map((l) => {
      const u = l.manifest.userInstall;
      return {
        name: l.manifest.name,
        script: l.script ?? null,
        version: l.manifest.version,
        root_packages: l.manifest.rootPackages,
        user_install: {
          runtime: u.runtime ?? null,
          runtime_version: u.runtime_version ?? null,
          npm_globals: u.npm_globals,
          cargo_tools: u.cargo_tools,
          uv_tools: u.uv_tools,
        },
        env: entries(l.manifest.env),
        path_prepend: l.manifest.pathPrepend,
      };
    }),
    merged_env: entries(mergeLayerEnv(layers, 'containerfile')),
  });
}

/** The 12-hex content hash of a composition. */
export function composeHash(baseImageId: string, layers: readonly ResolvedLayer[]): string {
  return createHash('sha256').update(composeHashInput(baseImageId, layers)).digest('hex').slice(0, 12);
}

/** The full image reference for a hash: `localhost/mino-composed-<hash>:latest`. */
export function composedImageTag(hash: string): string {
  if (!/^[a-f0-9]{12}$/.test(hash)) throw new MinoError(`Invalid composed image hash '${printable(hash)}'`);
  return `localhost/${COMPOSED_IMAGE_PREFIX}${hash}:latest`;
}

/** True for a tag made by {@link composedImageTag}. */
export function isComposedTag(image: string): boolean {
  return /^localhost\/mino-composed-[0-9a-f]{12}:latest$/.test(image);
}
