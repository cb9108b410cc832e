import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { DEFAULT_IMAGE } from '../config/defaults.js';
import { forgetComposed } from '../image/image-index.js';
import type { RunPlan } from '../launch/run-plan.js';
import { isComposedTag } from '../layer/compose-hash.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { missingImageError } from './plain-image.js';

/**
 * Turns a container that could not start (podman's own failure, exit 125) into an error a person
 * can act on. The most common cause is a missing image: a composed image removed behind mino's
 * back is forgotten from the image index, so the next run composes it again. Returns undefined
 * when the image is there (podman's message already on stderr says the rest).
 */
export async function explainStartFailure(
  runtime: ContainerRuntime,
  plan: RunPlan,
  dataDir = minoPaths().dataDir,
): Promise<MinoError | undefined> {
  if (await runtime.imageExists(plan.image).catch(() => true)) return undefined;
  if (isComposedTag(plan.image)) {
    forgetComposed(dataDir, plan.image);
    return new MinoError(`Image ${plan.image} for the selected layers was removed`, {
      hint: 'Run the same command again: mino builds it again first',
    });
  }
  if (plan.image !== DEFAULT_IMAGE) return missingImageError(runtime, plan.image);
  return new MinoError(`Image ${plan.image} is not available locally`, {
    hint: "Run 'mino setup --yes' to build it (a few minutes, once), or pass --image <local image>",
  });
}
