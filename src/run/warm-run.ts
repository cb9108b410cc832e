import type { RunPlan } from '../launch/run-plan.js';
import { UsageError } from '../common/errors.js';
import { BRANCH_COLD_REASON } from '../pool/pool-key.js';
import { DEFAULT_POOL_SETTINGS } from '../pool/pool-settings.js';
import { warmPool, type WarmSteps } from '../pool/warm-pool.js';
import type { SessionContext } from '../context/session-context.js';
import { explainStartFailure } from './explain-start-failure.js';
import { planRun, printDryRun, withPlanOnHost } from './plan-run.js';
import { prepareCaches } from './prepare-caches.js';
import { prepareVolumes } from './prepare-volumes.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import { prepareLoginsVolume } from './session-credentials.js';

/**
 * Use case `mino pool warm -n N [run flags…]`: the plan `mino run` would build for the same
 * request (planRun, shared with run-session.ts), kept warm by the pool (pool/warm-pool.ts)
 * instead of run. `--dry-run` prints the plan. Returns mino's exit code.
 */
export async function warmRun(
  ctx: SessionContext,
  req: RunRequest,
  facts: HostFacts,
  io: RunIo,
  count: number,
): Promise<number> {
  // Refused before the plan: planning a branch session makes its working copy.
  if (req.branch !== undefined)
    throw new UsageError(
      `This run cannot be kept warm: ${BRANCH_COLD_REASON}`,
      'Warm the flags without --branch; mino run --branch starts its session cold',
    );
  const planned = await planRun(ctx, req, facts, io);
  if (req.dryRun) {
    printDryRun(planned, io);
    return 0;
  }
  const { plan } = planned;
  return withPlanOnHost(ctx, planned, facts.pid, io, () =>
    warmPool(ctx, plan, count, req.pool ?? DEFAULT_POOL_SETTINGS, io, warmSteps(ctx, plan, io)),
  );
}

/** The run pipeline's steps that warming `plan` needs (see WarmSteps). */
export function warmSteps(ctx: SessionContext, plan: RunPlan, io: Pick<RunIo, 'say'>): WarmSteps {
  return {
    explainMissingImage: () => explainStartFailure(ctx.runtime, plan),
    prepareMounts: async () => {
      await prepareVolumes(ctx, plan, io.say);
      await prepareLoginsVolume(ctx, plan);
      await prepareCaches(ctx, plan.caches, io.say);
    },
  };
}
