import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { minoPaths } from '../common/xdg-paths.js';
import type { ContainerRuntime, RemoteEndpoint, StoreLocation } from '../runtime/container-runtime.js';
import { closeRemoteTunnel, remoteRuntime } from '../runtime/select-runtime.js';
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
  return remoteRuntime(endpointOf(engine, env), localStore);
}

/** Ends the shared ssh tunnel of `engine`, if one runs (`mino engine remove`). Best effort. */
export function closeEngineTunnel(engine: EngineRecord, env: NodeJS.ProcessEnv = process.env): void {
  closeRemoteTunnel(endpointOf(engine, env));
}

function endpointOf(engine: EngineRecord, env: NodeJS.ProcessEnv): RemoteEndpoint {
  const url = podmanUrl(engine.url);
  const home = engine.url.scheme === 'ssh' ? sshHome(env) : undefined;
  const tunnel = home === undefined ? undefined : tunnelDir(url, engine.identity, home, env);
  return {
    url,
    ...(engine.identity === undefined ? {} : { identity: engine.identity }),
    ...(home === undefined ? {} : { sshHome: home }),
    ...(tunnel === undefined ? {} : { tunnelDir: tunnel }),
  };
}

/** Longest unix socket path the kernel accepts, with a margin. */
const MAX_SOCKET_PATH = 100;

/**
 * Where an ssh engine's shared tunnel lives (runtime/podman/ssh-tunnel.ts): a private directory
 * under `$XDG_RUNTIME_DIR/mino/engines` (else `<data dir>/engines/run`), named by a hash of
 * everything that makes the connection (URL, key, known_hosts file), so an engine re-added with
 * another URL or key never reuses the old one. Undefined when its socket path would be too long
 * for the kernel: the tunnel then lives as long as the process.
 */
export function tunnelDir(
  url: string,
  identity: string | undefined,
  sshHome: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const runtime = env.XDG_RUNTIME_DIR;
  const base =
    runtime && isAbsolute(runtime) ? join(runtime, 'mino', 'engines') : join(minoPaths(env).dataDir, 'engines', 'run');
  const name = createHash('sha256')
    .update(`${url}\0${identity ?? ''}\0${sshHome}`)
    .digest('hex')
    .slice(0, 16);
  const dir = join(base, name);
  // <dir>/podman.sock and <dir>/control must fit a unix socket address.
  return dir.length + '/podman.sock'.length <= MAX_SOCKET_PATH ? dir : undefined;
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
