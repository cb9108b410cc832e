import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { minoPaths } from '../common/xdg-paths.js';
import type { ContainerRuntime, StoreLocation } from '../runtime/container-runtime.js';
import { remoteRuntime } from '../runtime/select-runtime.js';
import type { EngineRecord } from './engine-registry.js';
import { podmanUrl } from './engine-url.js';

/**
 * The ContainerRuntime of a registered engine. `localStore`: this machine's store images are
 * shipped from (mino's own store of a rootless user, else podman's default).
 */
export function runtimeOfEngine(
  engine: EngineRecord,
  localStore?: StoreLocation,
  env: NodeJS.ProcessEnv = process.env,
): ContainerRuntime {
  return remoteRuntime(
    {
      url: podmanUrl(engine.url),
      ...(engine.identity === undefined ? {} : { identity: engine.identity }),
      ...(engine.url.scheme === 'ssh' ? { sshHome: sshHome(env) } : {}),
    },
    localStore,
  );
}

/**
 * The HOME podman's ssh client gets: `<data dir>/engines/ssh`, whose `.ssh/known_hosts` (created
 * empty once) makes podman pin each engine host's key on first contact and refuse a changed one
 * afterwards, as ssh does. Without that file podman accepts any host key, with a warning each time.
 */
function sshHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = join(minoPaths(env).dataDir, 'engines', 'ssh');
  const file = join(home, '.ssh', 'known_hosts');
  if (!existsSync(file)) {
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(file, '', { mode: 0o600, flag: 'a' });
  }
  return home;
}
