import { sweepAgentDirs } from './warm-agent-dir.js';
import { log } from '../common/logger.js';
import { isWarmContainer, LABEL_POOL, LABEL_STATE } from '../session/session-labels.js';
import { listPoolKeys, readPool, removePool } from './pool-index.js';
import { sweepWarmCopies } from '../workspace/warm-copy.js';
import type { SessionContext } from '../context/session-context.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { withPoolLock } from './start-warm.js';
import { poolEngines } from './remote-pool.js';
import { sweepWarmRemoteEgress } from '../network/remote-egress.js';
import { poolCaSecrets } from './remote-warm-tls.js';
import { rememberOnEngine } from '../engine/engine-ca-secrets.js';
import { removePersistentHelpers } from '../sync/persistent-helper.js';

/** What `mino pool drain` removed. */
export interface DrainResult {
  /** Warm containers removed. */
  containers: number;
  /** Pools forgotten. */
  pools: number;
  /** Remote engines that did not answer (their warm containers end themselves after their time). */
  unreachable: string[];
}

/** Which engine's pools to drain: a registered engine's name, null for this machine's; absent: every engine's. */
export interface DrainOptions {
  engine?: string | null;
}

/**
 * Use case `mino pool drain`: removes every unclaimed warm container of this state directory (by
 * label, so containers the index lost track of go too) and forgets the pools, so runs start cold
 * and nothing refills: on this machine's engine and on each remote engine a pool names
 * (`options.engine`: that one only). Containers runs have claimed are left to their sessions.
 * Waits for a refill under way. An engine that does not answer is reported, its pools forgotten
 * all the same (its warm containers remove themselves after their time to live).
 */
export async function drainPool(ctx: SessionContext, options: DrainOptions = {}): Promise<DrainResult> {
  const wanted = (engine: string | undefined): boolean =>
    options.engine === undefined || (options.engine ?? undefined) === engine;
  return withPoolLock(ctx.stateDir, async () => {
    const keys = listPoolKeys(ctx.stateDir).filter((key) => wanted(readPool(ctx.stateDir, key)?.engine));
    const engines = poolEngines(ctx.stateDir).filter(wanted);
    if (typeof options.engine === 'string' && !engines.includes(options.engine)) engines.push(options.engine);
    const copies = keys.flatMap((key) => readPool(ctx.stateDir, key)?.branch?.dir ?? []);
    // A terminating remote pool's CA bundle secrets there (its CA's key goes with the pool's directory).
    const poolCas = keys.flatMap((key) => {
      const engine = readPool(ctx.stateDir, key)?.engine;
      return engine === undefined ? [] : poolCaSecrets(ctx.stateDir, key).map((secret) => ({ engine, secret }));
    });
    for (const key of keys) removePool(ctx.stateDir, key);
    let containers = 0;
    const unreachable: string[] = [];
    for (const engine of engines) {
      try {
        const runtime = runtimeFor(ctx, engine);
        containers += await removeWarmContainers(ctx, runtime);
        // A remote contained pool's warm proxies and their networks (pool/remote-warm-egress.ts).
        if (engine !== undefined) await sweepWarmRemoteEgress(runtime, ctx.stateKey, true);
        // The project copies' sync helpers there (sync/persistent-helper.ts): they end by themselves too.
        if (engine !== undefined)
          await removePersistentHelpers(runtime, { stateKey: ctx.stateKey, stateDir: ctx.stateDir, engine });
        for (const p of poolCas.filter((c) => c.engine === engine)) {
          await runtime.secretRemove(p.secret);
          rememberOnEngine(ctx.stateDir, p.engine, p.secret, false);
        }
      } catch (err) {
        if (engine === undefined) throw err;
        log.warn('could not drain the warm containers of an engine', { engine, error: String(err) });
        unreachable.push(engine);
      }
    }
    if (wanted(undefined)) sweepAgentDirs(ctx.stateDir, []);
    for (const dir of copies) sweepWarmCopies(dir, new Set());
    return { containers, pools: keys.length, unreachable };
  });
}

/** The runtime of `engine` (undefined: this machine's) for a context of this machine. */
function runtimeFor(ctx: SessionContext, engine: string | undefined): ContainerRuntime {
  if (engine === ctx.engine) return ctx.runtime;
  if (!ctx.runtimeOf) throw new Error(`no runtime for engine ${engine ?? 'local'}`);
  return ctx.runtimeOf(engine);
}

/** Removes the warm containers of this state directory on one engine; returns how many. */
async function removeWarmContainers(ctx: SessionContext, runtime: ContainerRuntime): Promise<number> {
  const warm = (await runtime.listContainers({ [LABEL_POOL]: '', [LABEL_STATE]: ctx.stateKey })).filter(
    isWarmContainer,
  );
  await Promise.all(
    warm.map((c) =>
      runtime
        .remove(c.id)
        .catch((err: unknown) => log.warn('could not remove a warm container', { name: c.name, error: String(err) })),
    ),
  );
  return warm.length;
}
