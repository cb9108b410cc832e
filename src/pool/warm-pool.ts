import { MinoError, UsageError } from '../common/errors.js';
import type { RunPlan } from '../launch/run-plan.js';
import { writePool, readPool } from './pool-index.js';
import { branchNeutralSpec, PER_RUN_LABELS, keyedSpecOf, poolabilityOf, warmGroupsFor } from './pool-key.js';
import type { WarmCopyLayout } from '../workspace/warm-copy.js';
import { poolEgressOf } from './warm-egress.js';
import type { PoolSettings } from './pool-settings.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import type { SessionContext } from '../context/session-context.js';
import { currentImage, dropVanished, fillPool, withPoolLock } from './start-warm.js';
import type { EgressStarter } from '../network/session-egress.js';

/**
 * Use case `mino pool warm -n N [run flags…]`: keeps N containers warm for exactly the plan that
 * `mino run` with the same flags in this project would use (the plan comes from the run path's
 * own planRun, run/warm-run.ts, so the two can never disagree). Idempotent: the pool's size
 * becomes N, and only the missing containers are started. Returns mino's exit code.
 */

/** What warming needs of the run pipeline (run/warm-run.ts supplies it for the plan). */
export interface WarmSteps {
  /** Why the plan's image is missing, said so a person can act (undefined: nothing better than "not available"). */
  explainMissingImage(): Promise<Error | undefined>;
  /** Creates what a run of the plan mounts and would create itself: volumes, the logins volume, caches. */
  prepareMounts(): Promise<void>;
  /** A branch plan: what its warm containers mount of a working copy (workspace/warm-copy.ts). */
  branch?: WarmCopyLayout;
  /** Starts the egress proxies of a contained plan's warm containers (default: the real one; tests replace it). */
  startEgress?: EgressStarter;
  /** On a remote engine: the project volume the plan mounts (its pool keeps a warm sync helper). */
  projectVolume?: string;
}

/** Where warming writes its messages: notices (stderr) and its result line (stdout). */
export interface WarmIo {
  say(message: string): void;
  print(line: string): void;
}

/** Keeps `count` containers warm for `plan` (see the module comment). */
export async function warmPool(
  ctx: SessionContext,
  plan: RunPlan,
  count: number,
  settings: PoolSettings,
  io: WarmIo,
  steps: WarmSteps,
): Promise<number> {
  if (!settings.enabled) {
    throw new UsageError(
      'The warm pool is off (pool.enabled = false)',
      "Turn it on with 'mino config set pool.enabled true'",
    );
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new UsageError(
      `Invalid -n ${count}: the number of warm containers must be at least 1`,
      "Use e.g. 'mino pool warm -n 2'; 'mino pool drain' empties the pool",
    );
  }
  const p = poolabilityOf(plan);
  if (!p.poolable)
    throw new UsageError(
      `This run cannot be kept warm: ${p.reason}`,
      'Warm the flags of a run of a command, e.g. mino pool warm -n 2 --network none',
    );
  let target = count;
  if (count > settings.maxWarm) {
    io.say(`Note: -n ${count} is above pool.max_warm (${settings.maxWarm}); keeping ${settings.maxWarm} warm`);
    target = settings.maxWarm;
  }
  const image = await currentImage(ctx, plan.image);
  if (!image)
    throw (await steps.explainMissingImage()) ?? new MinoError(`Image ${plan.image} is not available locally`);
  const groups = warmGroupsFor(plan.identity.imageUser, plan.identity.imageGid, image.user);
  if ('problem' in groups) {
    throw new UsageError(
      `This run cannot be kept warm: ${groups.problem}`,
      'Warm runs of mino images (mino-base, --layers) or of images that run as root; mino run starts this one cold',
    );
  }

  // The volumes and caches a run would create are created now, so warm containers mount them.
  await steps.prepareMounts();

  const store = await ctx.runtime.imageStoreIndexPath().catch(() => undefined);
  // A branch pool serves the repository's branch sessions (its record is no project's, so the
  // project's stand-ins are not kept for it).
  const project = steps.branch && plan.branch ? `${plan.branch.hostProjectDir} --branch` : plan.projectDir;
  const result = await withPoolLock(ctx.stateDir, async () => {
    writePool(ctx.stateDir, {
      key: p.key,
      project_dir: project,
      image: plan.image,
      target,
      spec: poolSpecOf(steps.branch ? branchNeutralSpec(keyedSpecOf(plan), plan.projectDir) : keyedSpecOf(plan)),
      group_add: groups.groups,
      ...(steps.branch ? { branch: steps.branch } : {}),
      ...(plan.network.egress ? { egress: poolEgressOf(plan) } : {}),
      ...(store === undefined ? {} : { image_store: store }),
      ...(ctx.engine === undefined ? {} : { engine: ctx.engine }),
      ...(ctx.engine === undefined || steps.projectVolume === undefined ? {} : { project_volume: steps.projectVolume }),
      updated_at: new Date().toISOString(),
    });
    const filled = await fillPool(
      ctx,
      readPool(ctx.stateDir, p.key)!,
      image,
      settings.maxWarm,
      settings.warmTtlSeconds,
      steps.startEgress,
    );
    const gone = filled.started > 0 ? await dropVanished(ctx, p.key) : [];
    return { ...filled, gone };
  });
  if (result.gone.length > 0) {
    throw new MinoError(`${result.gone.length} warm container(s) of image ${plan.image} exited at once`, {
      hint: 'The image needs /bin/sh and sleep for warm containers; run the same flags with mino run to see the error',
    });
  }
  if (result.replaced > 0) io.say(`Replaced ${result.replaced} warm container(s) of an older ${plan.image}`);
  if (result.cappedByMax)
    io.say(
      `Note: pool.max_warm (${settings.maxWarm}) counts the warm containers of all pools; ${result.warm} of ${target} are warm`,
    );
  io.print(
    `Pool ${p.key.slice(0, 12)}: ${result.warm} warm (${result.started} started) for ${project} with ${plan.image}${ctx.engine === undefined ? '' : ` on engine ${ctx.engine}`}; unused ones expire after ${settings.warmTtlSeconds} s`,
  );
  return 0;
}

/** The plan's container spec without what belongs to one run (kept in the pool record). */
function poolSpecOf(spec: ContainerSpec): ContainerSpec {
  const { name: _n, command: _c, interactive: _i, tty: _t, autoRemove: _a, ...rest } = spec;
  const labels = Object.fromEntries(Object.entries(spec.labels ?? {}).filter(([k]) => !PER_RUN_LABELS.includes(k)));
  return { ...rest, command: [], labels };
}
