import { MinoError } from '../common/errors.js';
import type { SessionContext } from '../context/session-context.js';
import type { RunPlan } from '../launch/run-plan.js';
import { LABEL_STATE } from '../session/session-labels.js';

/**
 * `mino fork`'s home volume: the new session's (empty, just created) gets a copy of the source
 * session's, by a short container of the session's image that runs `cp -a` as its root, with no
 * network: both volumes in one container, so every file keeps its owner as the sessions see it.
 */

/**
 * The source session's home volume when it exists (one `podman volume inspect`, which the caller
 * runs alongside the creation of the new session's volumes), else undefined.
 */
export async function forkHomeSource(
  ctx: SessionContext,
  source: string | null | undefined,
): Promise<string | undefined> {
  if (!source) return undefined;
  return (await ctx.runtime.volumeInspect(source)) === undefined ? undefined : source;
}

/**
 * Copies the home volume `source` (an existing one: see {@link forkHomeSource}) into the plan's
 * new home volume, in one podman call; false when there is nothing to copy.
 */
export async function copyForkHome(ctx: SessionContext, source: string | undefined, plan: RunPlan): Promise<boolean> {
  const target = plan.homeVolume;
  if (!source || !target || source === target) return false;
  const out = await ctx.runtime.runCaptured({
    image: plan.image,
    command: ['cp', '-a', '/mino-from/.', '/mino-to/'],
    // The session's state key: test and gc clean-ups find it like the session's own container.
    labels: { [LABEL_STATE]: plan.labels[LABEL_STATE] ?? '' },
    user: '0:0',
    network: 'none',
    autoRemove: true,
    pullNever: true,
    securityOpt: ['no-new-privileges'],
    mounts: [
      { source, target: '/mino-from', readOnly: true },
      { source: target, target: '/mino-to', readOnly: false },
    ],
  });
  if (out.exitCode !== 0) {
    throw new MinoError(
      `Could not copy the home volume ${source} for the fork: ${out.stderr.trim() || `exit ${out.exitCode}`}`,
      {
        hint: 'Fork with --no-home, or look at the volume with podman volume inspect',
      },
    );
  }
  return true;
}
