import type { SessionContext } from '../context/session-context.js';
import { removeEngine } from '../engine/manage-engines.js';
import { log } from '../common/logger.js';
import { isActive } from '../session/session-record.js';
import { removePersistentHelpers } from '../sync/persistent-helper.js';
import { drainPool, type DrainResult } from './drain-pool.js';
import { poolEngines } from './remote-pool.js';
import { forgetEngine, knownBundles } from '../engine/engine-ca-secrets.js';

/**
 * Use case `mino engine remove NAME`: refused with one error, nothing changed, while a session of
 * this state directory is active there; else this state's warm pools on that engine are drained
 * first (their warm containers and warm sync helpers removed there, the pools forgotten: nothing
 * refills onto an engine that is gone), the project copies' sync helpers there removed, and its
 * CA bundle secrets removed there (engine/engine-ca-secrets.ts); then the engine is forgotten and
 * its ssh tunnel ended.
 * An engine that does not answer is still forgotten (`drained.unreachable` names it: its warm
 * containers end themselves after their time to live). Undefined `drained`: it had no pools.
 */
export async function removeEngineAndPools(
  ctx: SessionContext,
  name: string,
  env?: NodeJS.ProcessEnv,
): Promise<{ drained?: DrainResult; caBundles?: number }> {
  const active = ctx.store
    .list()
    .sessions.filter((s) => s.engine === name && isActive(s))
    .map((s) => s.name);
  let drained: DrainResult | undefined;
  let caBundles = 0;
  await removeEngine(name, active, env, async () => {
    if (poolEngines(ctx.stateDir).includes(name)) drained = await drainPool(ctx, { engine: name });
    // The project copies' sync helpers there (persistent-helper.ts; a drain removed them already).
    if (!drained) {
      try {
        const runtime = name === ctx.engine ? ctx.runtime : ctx.runtimeOf?.(name);
        if (runtime)
          await removePersistentHelpers(runtime, { stateKey: ctx.stateKey, stateDir: ctx.stateDir, engine: name });
      } catch (err) {
        log.warn('could not remove the sync helpers of an engine', { engine: name, error: String(err) });
      }
    }
    caBundles = await removeCaBundles(ctx, name);
  });
  forgetEngine(ctx.stateDir, name);
  return { ...(drained ? { drained } : {}), ...(caBundles > 0 ? { caBundles } : {}) };
}

/**
 * Removes this state's CA bundle secrets on engine `name` that mino made (its memo knows them);
 * best effort: an engine that does not answer keeps them.
 */
async function removeCaBundles(ctx: SessionContext, name: string): Promise<number> {
  const names = knownBundles(ctx.stateDir, name);
  if (names.length === 0) return 0;
  try {
    const runtime = ctx.engine === name ? ctx.runtime : ctx.runtimeOf?.(name);
    if (runtime === undefined) return 0;
    for (const secret of names) await runtime.secretRemove(secret);
    return names.length;
  } catch (err) {
    log.warn('could not remove the CA bundle secrets of an engine', { engine: name, error: String(err) });
    return 0;
  }
}
