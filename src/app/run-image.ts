import { MinoError } from '../common/errors.js';
import { BASE_IMAGE_LATEST } from '../image/base-image-tag.js';
import { localImages, type LocalImage } from '../image/image-facts.js';
import type { BuildEvent } from '../image/build-output.js';
import { defaultLayerDirs } from '../layer/layer-dirs.js';
import { resolveLayers } from '../layer/resolve-layers.js';
import { selectLayers, type LayerSelectionInput } from '../layer/select-layers.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { ensureComposedImage } from './compose-image.js';

/**
 * Use case: which image a `mino run` starts, and the layer environment that goes with it.
 * Selection follows mino 1.6 (`--layers` > `--image` > `MINO_LAYERS` > config `layers` > image
 * alias). Layers compose on the local `mino-base` image, keyed by its image ID: one
 * `podman images` call finds the base's ID and whether the composed tag exists; a miss builds it
 * (once, under a lock). A plain image costs no podman call here (`podman run --pull=never`
 * reports a missing one).
 */

/** Image `mino run` uses when nothing is selected (built by `mino setup`). */
export const DEFAULT_IMAGE = BASE_IMAGE_LATEST;

/** The image a run starts and what the layers add. */
export interface RunImage {
  image: string;
  /** Layer names composed (empty for a plain image). */
  layers: string[];
  /** Layer environment to pass (lowest precedence: config and `-e` override it). */
  env: Record<string, string>;
  /** True when the composed image was built by this call (with `dryRun`: would be). */
  built: boolean;
}

/** Inputs of {@link resolveRunImage}. */
export interface RunImageRequest extends LayerSelectionInput {
  /** Canonical project directory (its `.mino/layers/` is searched; undefined when untrusted). */
  layerProjectDir: string | undefined;
  /** `MINO_IMAGE`: the default image when nothing is selected. */
  envImage?: string;
  /** Plan only: never build. */
  dryRun?: boolean;
  /** Build progress for the user (stderr); a build's first event is a `step`. */
  onProgress?: (event: BuildEvent) => void;
}

/** Picks (and composes when needed) the image for a run; see the module comment. */
export async function resolveRunImage(runtime: ContainerRuntime, req: RunImageRequest): Promise<RunImage> {
  const selection = selectLayers(req);
  if (selection.kind === 'image') {
    // mino 1.6's `base` alias: the mino base image without layers.
    const image = selection.image === 'base' ? DEFAULT_IMAGE : selection.image;
    return { image, layers: [], env: {}, built: false };
  }
  if (selection.kind === 'default') return { image: req.envImage || DEFAULT_IMAGE, layers: [], env: {}, built: false };

  const layers = await resolveLayers(selection.names, defaultLayerDirs(req.layerProjectDir));
  const images = await localImages(runtime, 'localhost/mino-*');
  const base = findImage(images, DEFAULT_IMAGE);
  if (!base) {
    throw new MinoError(`The mino base image ${DEFAULT_IMAGE} is not built, so layers ${selection.names.join(', ')} cannot be composed`, {
      hint: "Run 'mino setup --yes' to build it (a few minutes, once)",
    });
  }
  const names = layers.map((l) => l.manifest.name);
  const composed = await ensureComposedImage(runtime, {
    baseImageRef: DEFAULT_IMAGE,
    baseImageId: base.id,
    layers,
    dryRun: req.dryRun,
    exists: (image) => findImage(images, image) !== undefined,
    onProgress: req.onProgress,
  });
  return { image: composed.image, layers: names, env: composed.env, built: composed.built };
}

/** The local image carrying `name` (podman lists `localhost/x:tag` names in full). */
function findImage(images: readonly LocalImage[], name: string): LocalImage | undefined {
  return images.find((i) => i.names.includes(name));
}
