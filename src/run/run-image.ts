import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { DEFAULT_IMAGE } from '../config/defaults.js';
import type { BuildEvent } from '../image/build-output.js';
import { readImageIndex, rememberComposed } from '../image/image-index.js';
import { composedImageTag, composeHash, normalizeImageId } from '../layer/compose-hash.js';
import { needsComposeBuild } from '../layer/compose-plan.js';
import { defaultLayerDirs } from '../layer/layer-dirs.js';
import { runtimeLayerEnv } from '../layer/layer-env.js';
import { resolveLayers } from '../layer/resolve-layers.js';
import { selectLayers, type LayerSelectionInput } from '../layer/select-layers.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { ensureComposedImage } from './compose-image.js';

/**
 * Use case: which image a `mino run` starts, and the layer environment that goes with it.
 * Selection follows mino 1.6 (`--layers` > `--image` > `MINO_LAYERS` > config `layers` > image
 * alias). Layers compose on the engine's `mino-base` image, keyed by its image ID: this machine's,
 * or, for a run on another engine (`engine`), that engine's (`mino setup --engine` puts it there),
 * where the build runs too (podman sends the build context).
 *
 * Podman calls (on the run's engine): none for a plain image (`podman run --pull=never` reports a missing one), for
 * layers that only set environment, and for a composed image mino has seen on the current base
 * on this machine (src/image/image-index.ts; `fromIndex` tells the caller to recompose if it is gone after all).
 * Otherwise: one `podman image inspect` for the base ID, one `podman image exists` for the
 * composed tag, and a build (once, under a lock) when it is missing.
 */

/** The image a run starts and what the layers add. */
export interface RunImage {
  image: string;
  /** Layer names composed (empty for a plain image). */
  layers: string[];
  /** Layer environment to pass (lowest precedence: config and `-e` override it). */
  env: Record<string, string>;
  /** True when the composed image was built by this call (with `dryRun`: would be). */
  built: boolean;
  /** True when the image was taken from mino's image index without asking podman. */
  fromIndex: boolean;
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
  /** mino's data directory (default `$XDG_DATA_HOME/mino`). */
  dataDir?: string;
  /** The registered engine the run goes to (undefined: this machine's). */
  engine?: string;
}

/** Picks (and composes when needed) the image for a run; see the module comment. */
export async function resolveRunImage(runtime: ContainerRuntime, req: RunImageRequest): Promise<RunImage> {
  const selection = selectLayers(req);
  if (selection.kind === 'image') {
    // mino 1.6's `base` alias: the mino base image without layers.
    const image = selection.image === 'base' ? DEFAULT_IMAGE : selection.image;
    return { image, layers: [], env: {}, built: false, fromIndex: false };
  }
  if (selection.kind === 'default')
    return { image: req.envImage || DEFAULT_IMAGE, layers: [], env: {}, built: false, fromIndex: false };

  const layers = await resolveLayers(selection.names, defaultLayerDirs(req.layerProjectDir));
  const names = layers.map((l) => l.manifest.name);
  if (!needsComposeBuild(layers)) {
    return { image: DEFAULT_IMAGE, layers: names, env: runtimeLayerEnv(layers, false), built: false, fromIndex: false };
  }
  // The image index describes this machine's store: a run on another engine asks that engine
  // (its base image ID, then the composed tag) and composes there when the tag is missing.
  const dataDir = req.dataDir ?? minoPaths().dataDir;
  const index = req.engine === undefined ? readImageIndex(dataDir) : undefined;
  if (index) {
    const tag = composedImageTag(composeHash(index.base, layers));
    if (index.composed.includes(tag))
      return { image: tag, layers: names, env: runtimeLayerEnv(layers, true), built: false, fromIndex: true };
  }

  const baseId = (await runtime.imageInspect(DEFAULT_IMAGE))?.id;
  if (!baseId) {
    const where = req.engine === undefined ? '' : ` on engine ${req.engine}`;
    throw new MinoError(
      `The mino base image ${DEFAULT_IMAGE} is not${where === '' ? ' built' : ''}${where}, so layers ${names.join(', ')} cannot be composed`,
      {
        hint:
          req.engine === undefined
            ? "Run 'mino setup --yes' to build it (a few minutes, once)"
            : `Run 'mino setup --engine ${req.engine}' to put it there (shipped from this machine)`,
      },
    );
  }
  const composed = await ensureComposedImage(runtime, {
    baseImageRef: DEFAULT_IMAGE,
    baseImageId: baseId,
    layers,
    dryRun: req.dryRun,
    dataDir: req.dataDir,
    onProgress: req.onProgress,
  });
  if (req.engine === undefined && (!req.dryRun || !composed.built))
    rememberComposed(dataDir, normalizeImageId(baseId), composed.image);
  return { image: composed.image, layers: names, env: composed.env, built: composed.built, fromIndex: false };
}
