import type { ContainerSpec, LaunchVerb } from './container-runtime.js';
import { buildContainerArgs } from './podman/podman-args.js';

/**
 * The engine command that launches `spec` with `verb` (`podman run …`), exactly as the runtime
 * runs it: what `mino run --dry-run` prints. Every runtime mino drives is podman underneath
 * (OrbStack runs it in its machine), so this is podman's command line.
 */
export function launchCommand(verb: LaunchVerb, spec: ContainerSpec): { program: string; args: string[] } {
  return { program: 'podman', args: buildContainerArgs(verb, spec) };
}
