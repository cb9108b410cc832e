import type { SessionContext } from '../context/session-context.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { chooseEngine, findEngine, readEngineRegistry, type EngineRecord } from '../engine/engine-registry.js';
import { runtimeOfEngine } from '../engine/engine-runtime.js';
import { readOwnStore } from '../runtime/own-store.js';

/**
 * The session context of a command on a registered engine (src/engine/): the same state, with
 * the runtime of that engine.
 */

/** What a command knows of its engine. */
export interface EngineSession {
  ctx: SessionContext;
  rootless: boolean;
  /** Podman runs on this machine. */
  localEngine: boolean;
}

function ownStoreOrDefault(): ReturnType<typeof readOwnStore> {
  if ((process.getuid?.() ?? 0) === 0) return undefined;
  try {
    return readOwnStore();
  } catch {
    return undefined;
  }
}

/** `ctx` moved onto `engine`. */
function contextOnEngine(ctx: SessionContext, engine: EngineRecord): SessionContext {
  const { userRuntime: _local, ...rest } = ctx;
  return { ...rest, runtime: runtimeOfEngine(engine, ownStoreOrDefault()), engine: engine.name };
}

/**
 * The engine a run uses (`--engine`, else `[engine] name`, else the registry's default, else this
 * machine's), as a session context; `local` unchanged for this machine's.
 */
export function onChosenEngine(
  local: EngineSession,
  flag: string | undefined,
  configured: string | undefined,
): EngineSession {
  const engine = chooseEngine(readEngineRegistry(), flag, configured);
  if (!engine) return local;
  return { ctx: contextOnEngine(local.ctx, engine), rootless: engine.rootless ?? true, localEngine: false };
}

/** The runtime of the registered engine `name` (a UsageError when there is none). */
export function engineRuntime(name: string): ContainerRuntime {
  return runtimeOfEngine(findEngine(readEngineRegistry(), name), ownStoreOrDefault());
}

/** The context of a recorded session's engine (`name` undefined: `ctx` itself). */
export function contextForSessionEngine(ctx: SessionContext, name: string | undefined): SessionContext {
  if (name === undefined || name === ctx.engine) return ctx;
  const { userRuntime: _local, ...rest } = ctx;
  return { ...rest, runtime: engineRuntime(name), engine: name };
}
