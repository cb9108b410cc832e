import { UsageError } from '../common/errors.js';
import { CommandHost, type Host } from '../host/host.js';
import type { ContainerRuntime, RemoteEndpoint, StoreLocation } from './container-runtime.js';
import { OrbStackRuntime } from './orbstack/orbstack-runtime.js';
import { readOwnStore } from './own-store.js';
import { PodmanRuntime } from './podman/podman-runtime.js';
import { RemotePodmanRuntime } from './podman/remote-podman-runtime.js';
import { closeSharedTunnel } from './podman/ssh-tunnel.js';

/** Names of the runtimes mino can drive. */
export type RuntimeKind = 'podman' | 'orbstack';

/** Inputs of runtime selection. */
export interface RuntimeSelection {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  vmName?: string;
  vmDistro?: string;
  /** The user's uid (default: this process's); root never uses mino's own store. */
  uid?: number;
  /**
   * Called instead of throwing when the record of mino's own store cannot be read (setup and
   * status, which repair or report it); the default store is used then.
   */
  onBadOwnStore?: (err: unknown) => void;
}

/** Which runtime to use: `MINO_RUNTIME` if set, else OrbStack on macOS and Podman elsewhere. */
function runtimeKind(selection: RuntimeSelection = {}): RuntimeKind {
  const env = selection.env ?? process.env;
  const forced = env.MINO_RUNTIME;
  if (forced !== undefined && forced !== '') {
    if (forced === 'podman' || forced === 'orbstack') return forced;
    throw new UsageError(`Invalid MINO_RUNTIME '${forced}'`, 'Set MINO_RUNTIME to podman or orbstack, or unset it');
  }
  return (selection.platform ?? process.platform) === 'darwin' ? 'orbstack' : 'podman';
}

/** The engine of this machine and the host it runs on. */
export interface SelectedRuntime {
  kind: RuntimeKind;
  /** The only road to the engine: on mino's own store when setup made one for this user. */
  runtime: ContainerRuntime;
  /** The same engine on its default store (the user's own); the same object as `runtime` unless `ownStore`. */
  defaultRuntime: ContainerRuntime;
  /** mino's own image store (src/runtime/own-store.ts), when this user has one. */
  ownStore: StoreLocation | undefined;
  /**
   * Programs that are not the engine, on the machine where the engine runs: this computer for
   * Podman, the Linux machine for OrbStack.
   */
  host: Host;
}

function tolerantRead(env: NodeJS.ProcessEnv, onBad: ((err: unknown) => void) | undefined): StoreLocation | undefined {
  if (!onBad) return readOwnStore(env);
  try {
    return readOwnStore(env);
  } catch (err) {
    onBad(err);
    return undefined;
  }
}

/**
 * Creates the ContainerRuntime for this machine, with the matching Host. A rootless user for
 * whom `mino setup` made mino's own image store gets a runtime on that store (read from a small
 * record file, no podman call), so every command sees the same images, containers and volumes.
 */
export function selectRuntime(selection: RuntimeSelection = {}): SelectedRuntime {
  const env = selection.env ?? process.env;
  if (runtimeKind(selection) === 'orbstack') {
    const runtime = new OrbStackRuntime({
      vmName: selection.vmName ?? env.MINO_VM ?? 'mino',
      vmDistro: selection.vmDistro ?? 'fedora',
      env: selection.env,
    });
    return { kind: 'orbstack', runtime, defaultRuntime: runtime, ownStore: undefined, host: runtime.host };
  }
  const engine = new PodmanRuntime({ host: new CommandHost({ env: selection.env }) });
  // Rootless only: rootful podman defaults to overlay, and root's store is the system's.
  const ownStore =
    (selection.uid ?? process.getuid?.() ?? 0) === 0 ? undefined : tolerantRead(env, selection.onBadOwnStore);
  const runtime = ownStore ? engine.withStore(ownStore) : engine;
  return { kind: 'podman', runtime, defaultRuntime: engine, ownStore, host: engine.host };
}

/**
 * The ContainerRuntime of a remote Podman engine (podman's remote client on this machine).
 * `localStore` is the store of this machine's engine that images are shipped from.
 */
export function remoteRuntime(endpoint: RemoteEndpoint, localStore?: StoreLocation): ContainerRuntime {
  return new RemotePodmanRuntime(endpoint, localStore);
}

/** Ends the shared ssh tunnel of a remote engine, if one runs (its engine was removed). Best effort. */
export function closeRemoteTunnel(endpoint: RemoteEndpoint): void {
  if (endpoint.tunnelDir !== undefined) closeSharedTunnel(endpoint.tunnelDir);
}
