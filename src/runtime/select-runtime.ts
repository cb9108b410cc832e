import { UsageError } from '../common/errors.js';
import { CommandHost, type Host } from '../host/host.js';
import type { ContainerRuntime } from './container-runtime.js';
import { OrbStackRuntime } from './orbstack/orbstack-runtime.js';
import { PodmanRuntime } from './podman/podman-runtime.js';

/** Names of the runtimes mino can drive. */
export type RuntimeKind = 'podman' | 'orbstack';

/** Inputs of runtime selection. */
export interface RuntimeSelection {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  vmName?: string;
  vmDistro?: string;
}

/** Which runtime to use: `MINO_RUNTIME` if set, else OrbStack on macOS and Podman elsewhere. */
export function runtimeKind(selection: RuntimeSelection = {}): RuntimeKind {
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
  /** The only road to the engine. */
  runtime: ContainerRuntime;
  /**
   * Programs that are not the engine, on the machine where the engine runs: this computer for
   * Podman, the Linux machine for OrbStack.
   */
  host: Host;
}

/** Creates the ContainerRuntime for this machine, with the matching Host. */
export function selectRuntime(selection: RuntimeSelection = {}): SelectedRuntime {
  const env = selection.env ?? process.env;
  if (runtimeKind(selection) === 'orbstack') {
    const runtime = new OrbStackRuntime({
      vmName: selection.vmName ?? env.MINO_VM ?? 'mino',
      vmDistro: selection.vmDistro ?? 'fedora',
      env: selection.env,
    });
    return { kind: 'orbstack', runtime, host: runtime.host };
  }
  const runtime = new PodmanRuntime({ host: new CommandHost({ env: selection.env }) });
  return { kind: 'podman', runtime, host: runtime.host };
}
