import type { ContainerRuntime, StoreLocation } from '../runtime/container-runtime.js';
import { remoteRuntime } from '../runtime/select-runtime.js';
import type { EngineRecord } from './engine-registry.js';
import { podmanUrl } from './engine-url.js';

/**
 * The ContainerRuntime of a registered engine. `localStore`: this machine's store images are
 * shipped from (mino's own store of a rootless user, else podman's default).
 */
export function runtimeOfEngine(engine: EngineRecord, localStore?: StoreLocation): ContainerRuntime {
  return remoteRuntime(
    { url: podmanUrl(engine.url), ...(engine.identity === undefined ? {} : { identity: engine.identity }) },
    localStore,
  );
}
