import type { RunPlan } from '../launch/run-plan.js';
import { isMinoImage } from '../image/mino-image.js';
import { explainStartFailure } from './explain-start-failure.js';
import { homeVolumeToCreate } from './prepare-volumes.js';
import type { SessionContext } from '../context/session-context.js';
import { loginsVolumeToCreate } from './session-credentials.js';

/**
 * A first run creates the home and logins volumes: only once the image is known to be there, so
 * a run before `mino setup` ends with one error (mino's, not podman's too) and leaves nothing in
 * the user's store. A mino image is not inspected while planning, so this asks podman once
 * (`image exists`) on a run that would create a volume; later runs know their volumes (markers)
 * and ask nothing here. Other images were inspected while planning (plain-image.ts).
 */
export async function checkImageBeforeVolumes(ctx: SessionContext, plan: RunPlan): Promise<void> {
  if (!isMinoImage(plan.image) || !(homeVolumeToCreate(ctx, plan) || loginsVolumeToCreate(ctx, plan))) return;
  const missing = await explainStartFailure(ctx.runtime, plan);
  if (missing) throw missing;
}
