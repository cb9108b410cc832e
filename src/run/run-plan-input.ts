import { statSync } from 'node:fs';
import { DEFAULT_SHELL_COMMAND } from '../config/defaults.js';
import type { CacheMount } from '../cache/cache-mounts.js';
import type { EgressPlan } from '../network/egress-plan.js';
import { splitCliEnv } from '../credentials/env-passthrough.js';
import type { PlanCredentialInput } from '../launch/plan-credentials.js';
import type { RunPlanInput } from '../launch/run-plan.js';
import { VERSION } from '../version.js';
import { isMinoImage } from '../image/mino-image.js';
import type { ImageIdentity } from '../launch/userns.js';
import type { HostFacts, RunRequest } from './run-request.js';
import { canonicalVolumeSources, minoOwnDirs } from './volume-sources.js';
import type { ProtectFacts } from '../protect/protect-plan.js';

/**
 * The one translation from what the user asked (flags over config over defaults) and the facts of
 * this machine to the inputs of the pure plan builder. Its only I/O: volume host paths are made
 * canonical (volume-sources.ts) and the project directory's owner is read.
 */

/** What the run resolved before planning: the image, its layers' environment, the caches, the network. */
export interface ResolvedRun {
  sessionName: string;
  image: string;
  layerEnv: Readonly<Record<string, string>>;
  caches: readonly CacheMount[];
  /** The plain network mode (when there is no egress plan). */
  network?: string;
  /** The egress plan of an allowlisted or learning session. */
  egress?: EgressPlan;
  /** The credentials step's part (gather-credentials.ts); undefined before it ran. */
  credentials?: PlanCredentialInput;
  /** The image's user as inspected (plain-image.ts); default: what {@link imageUserOf} knows. */
  imageIdentity?: ImageIdentity;
  /** Protected paths found on the host (protect-discovery.ts); undefined = none. */
  protect?: ProtectFacts;
  /** Warnings of the protection rules (defaults removed by the user's configuration). */
  protectWarnings?: string[];
}

/** The uid mino-built images run as (`developer`); other images are left to podman. */
export function imageUserOf(image: string): number | undefined {
  return isMinoImage(image) ? 1000 : undefined;
}

/** uid and gid of the owner of `path` (the project: a rootful session maps the image user onto it). */
function ownerOf(path: string): { uid: number; gid: number } {
  const st = statSync(path);
  return { uid: st.uid, gid: st.gid };
}

/** Builds the {@link RunPlanInput} of a request. */
export function runPlanInput(req: RunRequest, facts: HostFacts, stateKey: string, resolved: ResolvedRun): RunPlanInput {
  const config = req.config;
  // mino images: `developer`, uid and gid 1000 (as plain-image.ts says), also before the inspection.
  const identity = resolved.imageIdentity ?? (isMinoImage(resolved.image) ? { uid: 1000, gid: 1000 } : undefined);
  return {
    sessionName: resolved.sessionName,
    projectDir: req.projectDir,
    homeDir: facts.homeDir,
    ...(facts.userHomes ? { userHomes: facts.userHomes } : {}),
    minoDirs: minoOwnDirs(),
    allowHome: req.allowHome,
    allowSystemPaths: req.allowSystemPaths ?? false,
    image: resolved.image,
    layerEnv: resolved.layerEnv,
    command: req.command,
    shell: config?.shell === undefined ? DEFAULT_SHELL_COMMAND : [config.shell],
    detach: req.detach,
    readOnly: req.readOnly || (config?.readOnly ?? false),
    network: resolved.network,
    egress: resolved.egress,
    // `-e KEY` (no value) is the credentials step's: it never becomes a plain variable.
    cliEnv: splitCliEnv(req.env).assignments,
    cliVolumes: canonicalVolumeSources(req.volumes, 'cli'),
    configEnv: config?.env,
    configVolumes: canonicalVolumeSources(config?.volumes ?? [], 'config'),
    workdir: config?.workdir,
    projectOwner: ownerOf(req.projectDir),
    rootless: facts.rootless,
    stdinIsTty: facts.stdinIsTty,
    ownerPid: facts.pid,
    hostUid: facts.uid,
    hostGid: facts.gid,
    imageUser: identity?.uid,
    ...(identity?.gid === undefined ? {} : { imageGid: identity.gid }),
    minoVersion: VERSION,
    stateKey,
    // Rootless podman on cgroup v1 cannot enforce limits (it warns into the command's stderr).
    resourceLimits: !(facts.rootless && facts.cgroupV1),
    home: !(req.noHome ?? false) && (config?.home ?? true),
    caches: resolved.caches,
    ...(resolved.credentials ? { credentials: resolved.credentials } : {}),
    ...(resolved.protect ? { protect: resolved.protect } : {}),
    ...(resolved.protectWarnings ? { protectWarnings: resolved.protectWarnings } : {}),
    ...(req.workingCopy ? { branch: req.workingCopy } : {}),
  };
}
