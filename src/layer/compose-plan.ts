import { validateImageRef } from '../runtime/validate.js';
import { composedImageTag, composeHash, normalizeImageId } from './compose-hash.js';
import { generateContainerfile, scriptFileName } from './containerfile.js';
import { runtimeLayerEnv } from './layer-env.js';
import type { ResolvedLayer } from './resolve-layers.js';

/**
 * What composing a set of layers on a base image means, as plain data and without I/O: whether an
 * image must be built at all (not when an image with its content-addressed tag exists), that tag, the build
 * context files, the labels, and the environment to pass at run time.
 */

/** Label on every composed image (`podman images --filter label=io.mino.composed=1`). */
export const LABEL_COMPOSED = 'io.mino.composed';
/** Content hash of the composition (the tag's suffix). */
const LABEL_COMPOSED_HASH = 'io.mino.composed.hash';
/** Base image ID the composition was built on. */
export const LABEL_COMPOSED_BASE = 'io.mino.composed.base';
/** Base image reference as given. */
const LABEL_COMPOSED_BASE_REF = 'io.mino.composed.base-ref';
/** Layers and versions, sorted by name: `python@2,typescript@2`. */
export const LABEL_COMPOSED_LAYERS = 'io.mino.composed.layers';

/** True when some layer has an install script or root packages (else the base image is used as is). */
export function needsComposeBuild(layers: readonly ResolvedLayer[]): boolean {
  return layers.some((l) => l.script !== undefined || l.manifest.rootPackages.length > 0);
}

/** Input of {@link planComposition}. */
export interface CompositionInput {
  /** Base image reference (e.g. `localhost/mino-base:…`). */
  baseImageRef: string;
  /** Full ID of that image (64 hex, `sha256:` optional): the hash is keyed by it. */
  baseImageId: string;
  /** Resolved layers in `--layers` order. */
  layers: readonly ResolvedLayer[];
}

/** A file of the build context. */
interface ContextFile {
  name: string;
  content: string;
  mode: number;
}

/** The outcome of planning: either the base image as is, or a composed image to reuse or build. */
export type CompositionPlan =
  | {
      needsBuild: false;
      /** The image to run: the base reference. */
      image: string;
      /** Layer environment to pass at run time (`[env]`, MINO_PATH_PREPEND, MINO_LAYER_MANIFEST). */
      runtimeEnv: Record<string, string>;
    }
  | {
      needsBuild: true;
      /** `localhost/mino-composed-<hash>:latest`. */
      image: string;
      hash: string;
      containerfile: string;
      /** Containerfile and install scripts. */
      contextFiles: ContextFile[];
      labels: Record<string, string>;
      /** Run-time environment (layer `[env]` is baked into the image; the bootstrap variables are not). */
      runtimeEnv: Record<string, string>;
    };

/** Plans a composition (pure; validates the base reference and ID). */
export function planComposition(input: CompositionInput): CompositionPlan {
  const baseImageRef = validateImageRef(input.baseImageRef);
  const baseImageId = normalizeImageId(input.baseImageId);
  const { layers } = input;
  if (!needsComposeBuild(layers)) {
    return { needsBuild: false, image: baseImageRef, runtimeEnv: runtimeLayerEnv(layers, false) };
  }
  const hash = composeHash(baseImageId, layers);
  const containerfile = generateContainerfile({ baseImageRef, baseImageId, layers });
  const contextFiles: ContextFile[] = [{ name: 'Containerfile', content: containerfile, mode: 0o644 }];
  for (const l of layers) {
    if (l.script !== undefined)
      contextFiles.push({ name: scriptFileName(l.manifest.name), content: l.script, mode: 0o755 });
  }
  const sortedNames = [...layers].map((l) => `${l.manifest.name}@${l.manifest.version}`).sort();
  return {
    needsBuild: true,
    image: composedImageTag(hash),
    hash,
    containerfile,
    contextFiles,
    labels: {
      [LABEL_COMPOSED]: '1',
      [LABEL_COMPOSED_HASH]: hash,
      [LABEL_COMPOSED_BASE]: `sha256:${baseImageId}`,
      [LABEL_COMPOSED_BASE_REF]: baseImageRef,
      [LABEL_COMPOSED_LAYERS]: sortedNames.join(','),
    },
    runtimeEnv: runtimeLayerEnv(layers, true),
  };
}
