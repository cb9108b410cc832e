import { DEFAULT_SHELL_COMMAND } from '../config/defaults.js';
import type { CacheMount } from '../cache/cache-mounts.js';
import { splitCliEnv } from '../credentials/env-passthrough.js';
import type { PlanCredentialInput } from '../launch/plan-credentials.js';
import type { RunPlanInput } from '../launch/run-plan.js';
import { VERSION } from '../version.js';
import { isMinoImage } from '../volume/home-volume.js';
import type { HostFacts, RunRequest } from './run-request.js';

/**
 * The one translation from what the user asked (flags over config over defaults) and the facts of
 * this machine to the inputs of the pure plan builder. No I/O.
 */

/** What the run resolved before planning: the image, its layers' environment, the caches. */
export interface ResolvedRun {
  sessionName: string;
  image: string;
  layerEnv: Readonly<Record<string, string>>;
  caches: readonly CacheMount[];
  /** The credentials step's part (gather-credentials.ts); undefined before it ran. */
  credentials?: PlanCredentialInput;
}

/** The uid mino-built images run as (`developer`); other images are left to podman. */
export function imageUserOf(image: string): number | undefined {
  return isMinoImage(image) ? 1000 : undefined;
}

/** Builds the {@link RunPlanInput} of a request. */
export function runPlanInput(req: RunRequest, facts: HostFacts, stateKey: string, resolved: ResolvedRun): RunPlanInput {
  const config = req.config;
  return {
    sessionName: resolved.sessionName,
    projectDir: req.projectDir,
    homeDir: facts.homeDir,
    allowHome: req.allowHome,
    image: resolved.image,
    layerEnv: resolved.layerEnv,
    command: req.command,
    shell: config?.shell === undefined ? DEFAULT_SHELL_COMMAND : [config.shell],
    detach: req.detach,
    readOnly: req.readOnly || (config?.readOnly ?? false),
    network: req.network ?? config?.network,
    // `-e KEY` (no value) is the credentials step's: it never becomes a plain variable.
    cliEnv: splitCliEnv(req.env).assignments,
    cliVolumes: req.volumes,
    configEnv: config?.env,
    configVolumes: config?.volumes,
    workdir: config?.workdir,
    rootless: facts.rootless,
    stdinIsTty: facts.stdinIsTty,
    ownerPid: facts.pid,
    hostUid: facts.uid,
    hostGid: facts.gid,
    imageUser: imageUserOf(resolved.image),
    minoVersion: VERSION,
    stateKey,
    // Rootless podman on cgroup v1 cannot enforce limits (it warns into the command's stderr).
    resourceLimits: !(facts.rootless && facts.cgroupV1),
    home: !(req.noHome ?? false) && (config?.home ?? true),
    caches: resolved.caches,
    ...(resolved.credentials ? { credentials: resolved.credentials } : {}),
  };
}
