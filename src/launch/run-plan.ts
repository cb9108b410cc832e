import { MinoError, UsageError } from '../common/errors.js';
import { ORIGIN_TARGET } from '../workspace/copy-layout.js';
import { isSecretName } from '../common/redact.js';
import type { ContainerSpec, LaunchVerb } from '../runtime/container-runtime.js';
import { validateImageRef } from '../runtime/validate.js';
import { printable } from '../common/printable.js';
import { mergeEnv } from './env-args.js';
import { HARDENING, readOnlySpec } from './hardening.js';
import { cacheLabels } from '../cache/cache-labels.js';
import { containerNameFor, sessionLabels } from '../session/session-labels.js';
import { volumeLabels } from '../volume/volume-labels.js';
import { networkSpec, resolveNetwork, withProxyEnv, type NetworkPlan } from './network.js';
import type { EgressPlan } from '../network/egress-plan.js';
import { checkProjectDir } from './project-guard.js';
import type { UserHome } from './volume-guard.js';
import { planCredentials, type PlanCredentialInput, type PlanCredentials } from './plan-credentials.js';
import { withPrelude } from '../credentials/session-prelude.js';
import { identityFlags } from './userns.js';
import { ROOTFUL_DEVICE_DIR, ROOTFUL_ID_BASE } from '../config/defaults.js';
import { assembleMounts, toMountSpecs, type PlannedMount } from './volume-args.js';
import { HOME_TARGET, homeVolumeName, wantsHomeVolume } from '../volume/home-volume.js';
import { resolveWorkdir } from './workdir.js';
import { cacheEnv } from '../cache/cache-env.js';
import type { CacheMount } from '../cache/cache-mounts.js';
import { planProtection, type ProtectFacts, type ProtectionPlan } from '../protect/protect-plan.js';

/**
 * The `mino run` plan: every decision about the container, made up front from plain inputs with no
 * I/O, so it can be unit-tested, printed by `--dry-run` and hashed. The executor only checks the
 * image exists, records the session, and runs `plan.spec` with `plan.launchVerb`.
 *
 * One `podman run` per session (mino 1.6 used create → start → rm, and a `sleep infinity` +
 * exec dance for shells, which left orphans when mino died):
 * - `command` (a command was given): `podman run --rm -i [-t]` attached; exit code = the command's.
 * - `shell` (no command): the same, running `shell`; bootstrap output shows in the terminal.
 * - `detached` (`-d`): `podman run -d` WITHOUT `--rm`, so the container and its exit code survive
 *   until `mino stop`/`gc` (or list reconciliation) reads and removes it. mino 1.6 used `--rm`,
 *   losing the exit code and leaving the session "running" forever. Without a command the
 *   detached shell gets `-i` (stdin held open by podman), so it stays up for `mino exec` instead of
 *   exiting at once on EOF as in mino 1.6.
 * `-t` is only set when stdin is a terminal (mino 1.6 always set it); a detached run started from a
 * terminal gets `-i -t` too, so `mino attach` finds a terminal (a scripted one keeps stdout and
 * stderr apart for `mino logs`).
 */

/** How the session runs. */
export type RunMode = 'detached' | 'command' | 'shell';

/** Inputs of {@link buildRunPlan}; everything already resolved by the caller (CLI > config). */
export interface RunPlanInput {
  /** Session name (`[A-Za-z0-9_-]+`); the container is `mino-<name>`. */
  sessionName: string;
  /** Canonical absolute host project directory (realpath done by the caller). */
  projectDir: string;
  /** The host user's home directory (canonical absolute). */
  homeDir: string;
  /** `--allow-home`: permit `/`, `$HOME` or a parent of `$HOME` as the project or a volume. */
  allowHome?: boolean;
  /** `--allow-system-paths`: permit system directories (/etc, /usr, /run, …) as the project or a volume. */
  allowSystemPaths?: boolean;
  /** Every user's home directory from the passwd database: refused like `homeDir` (volume-guard.ts). */
  userHomes?: readonly UserHome[];
  /** mino's own canonical directories (configuration, state, data): never a project or volume without --allow-home. */
  minoDirs?: readonly string[];
  /** Image reference to run. */
  image: string;
  /** Command after `--`; empty means an interactive shell. */
  command: readonly string[];
  /**
   * Command for shell mode and for `-d` without a command: `[session.shell]` when configured, else
   * DEFAULT_SHELL_COMMAND (the image's best shell).
   */
  shell: readonly string[];
  /** `-d/--detach`. */
  detach: boolean;
  /** `--read-only` or config `container.read_only`. */
  readOnly: boolean;
  /** Plain network mode already chosen (CLI over config); undefined = `bridge`. Validated here. */
  network?: string;
  /**
   * The egress policy and proxy of an allowlisted or learning session (network-choice.ts and
   * egress-plan.ts, built by the caller); `network` is then ignored.
   */
  egress?: EgressPlan;
  /** CLI `-e KEY=VALUE` values in order. */
  cliEnv?: readonly string[];
  /** Environment of the selected layers (lowest precedence). */
  layerEnv?: Readonly<Record<string, string>>;
  /** Config `container.env`. */
  configEnv?: Readonly<Record<string, string>>;
  /** CLI `--volume HOST:CONTAINER[:ro|:rw]` values in order, host paths canonical (realpath). */
  cliVolumes?: readonly string[];
  /** Config `container.volumes`, same syntax. */
  configVolumes?: readonly string[];
  /** Config `container.workdir`; undefined or `/workspace` = derive from the project folder name. */
  workdir?: string;
  /**
   * Owner of the project directory on the host: a rootful session maps the image's user onto it
   * (default: the host user running mino).
   */
  projectOwner?: { uid: number; gid: number };
  /** First host id of the range rootful sessions map other container ids to (defaults.ts). */
  rootfulIdBase?: number;
  /** The device directory of rootful runs in which a container id is host root (default ROOTFUL_DEVICE_DIR). */
  rootfulDeviceDir?: string;
  /** Podman runs rootless (adds `--userns=keep-id…`). */
  rootless: boolean;
  /** stdin is a terminal (adds `-t` to attached runs). */
  stdinIsTty: boolean;
  /** PID of this `mino run` process (label `io.mino.owner-pid`). */
  ownerPid: number;
  /** Host uid/gid of the user running mino (recorded for ownership checks and reaping). */
  hostUid: number;
  hostGid: number;
  /** Numeric uid the image runs as (1000 for mino's `developer`, 0 for root); undefined = unknown. */
  imageUser?: number;
  /** Numeric gid the image runs as; defaults to `imageUser`. */
  imageGid?: number;
  /** mino version (label `io.mino.version`). */
  minoVersion: string;
  /** Key of the state directory owning the session (label `io.mino.state`). */
  stateKey?: string;
  /**
   * The engine can enforce resource limits (default true). Rootless podman on cgroup v1 cannot:
   * it ignores `--pids-limit` and prints a warning into the command's stderr, so it is left out
   * (and `mino status` reports the missing limit).
   */
  resourceLimits?: boolean;
  /**
   * Mount the per-project home volume `mino-home-<hash>` at /home/developer (default false). Only
   * takes effect for mino images and when no other mount uses /home/developer.
   */
  home?: boolean;
  /**
   * Dependency cache mounts decided by the caller (cache-mounts.ts). Each is mounted at its
   * `/cache/<ecosystem>` unless another mount already uses that path, and the ecosystems' variables
   * (npm_config_cache, CARGO_HOME, ...) are set above the layers' environment, below config and `-e`.
   */
  caches?: readonly CacheMount[];
  /**
   * What the credentials step decided (plan-credentials.ts): the session env file with the names
   * of the secret variables it sets, shared agent logins, host agent settings, SSH agent, CA
   * bundle, proxy-only placeholders. Never a secret value.
   */
  credentials?: PlanCredentialInput;
  /**
   * Add `--pull=never` (default true): the executor makes sure the image is local first (build or
   * explicit pull with progress), so `run` never talks to a registry behind the user's back.
   */
  pullNever?: boolean;
  /**
   * The protected paths found on the host (protect/protect-plan.ts; discovered by the caller):
   * each becomes a read-only mount onto itself, its parent directories are pinned, absent ones
   * get stubs the caller creates before the run. Undefined = nothing protected.
   */
  protect?: ProtectFacts;
  /** Warnings of the protection rules (a default the user's configuration removed). */
  protectWarnings?: readonly string[];
  /**
   * A branch session (workspace/, branch/): `projectDir` is then its working copy in mino's data
   * directory, and the host repository's object store is mounted read-only where the copy's
   * alternates line finds it. Undefined = the project itself is mounted.
   */
  branch?: PlanBranch;
}

/** The branch of a branch session (see {@link RunPlanInput.branch}). */
export interface PlanBranch {
  /** Branch NAME (the branch is mino/NAME). */
  name: string;
  /** The host repository's top folder (the project the user named; guarded like any project). */
  hostProjectDir: string;
  /** The host repository's object store. */
  objectsDir: string;
}

/** Who the container runs as, and how host and container uids relate. */
interface RunIdentity {
  rootless: boolean;
  hostUid: number;
  hostGid: number;
  /** The image's uid when known. */
  imageUser: number | undefined;
  /** The image's gid when known (an explicit `uid:gid`, or a mino image). */
  imageGid?: number;
  /** `--userns` value, undefined when none is passed. */
  userns: string | undefined;
  /** Rootful `--uidmap`/`--gidmap` values (empty when none are passed). */
  uidMap: string[];
  gidMap: string[];
}

/** Everything the executor needs to start one session container; plain data. */
export interface RunPlan {
  sessionName: string;
  /** `mino-<session>`, also `spec.name`. */
  containerName: string;
  projectDir: string;
  /** Container path of the project, also `spec.workdir`. */
  workdir: string;
  image: string;
  /** The command the container runs (the default shell in shell mode). */
  command: string[];
  mode: RunMode;
  /** `run-detached` for detached mode, `run` (attached to this terminal) otherwise. */
  launchVerb: Extract<LaunchVerb, 'run' | 'run-detached'>;
  /** True when mino's stdio is attached to the container until it exits. */
  attached: boolean;
  network: NetworkPlan;
  /** Mounts with their origins, in argv order (also in `spec.mounts`). */
  mounts: PlannedMount[];
  /** The home volume's podman name when it is mounted (the caller creates it with its labels). */
  homeVolume: string | undefined;
  /** Slugs of the named volumes mounted (the caller checks they exist), in mount order. */
  namedVolumes: string[];
  /** Dependency caches mounted (the caller creates missing volumes and records their use). */
  caches: CacheMount[];
  /** Credentials: secret variable names (no values), prelude, proxy rules. */
  credentials: PlanCredentials;
  /** The shared agent logins volume when it is mounted (the caller creates it with its labels). */
  loginsVolume: string | undefined;
  /** Container labels (also in `spec.labels`). */
  labels: Record<string, string>;
  identity: RunIdentity;
  /** Protected paths: their mounts (also in `mounts`), the stubs to create first, the list `--dry-run` shows. */
  protection: ProtectionPlan;
  /** Things the user should hear about (printed by the caller before starting). */
  warnings: string[];
  /** The branch of a branch session (`projectDir` is its working copy). */
  branch?: PlanBranch;
  /** The container, ready for `buildContainerArgs(launchVerb, spec)` / `runtime.run(spec)`. */
  spec: ContainerSpec;
}

function checkArgv(what: string, argv: readonly string[]): string[] {
  for (const arg of argv) {
    if (typeof arg !== 'string' || arg.includes('\0')) {
      throw new MinoError(
        `Invalid ${what} argument '${printable(String(arg))}': NUL bytes cannot be passed to a program`,
      );
    }
  }
  return [...argv];
}

function checkId(kind: string, id: number): void {
  if (!Number.isInteger(id) || id < 0) throw new MinoError(`Invalid host ${kind} ${id}`);
}

/** The run mode: detached wins, then command vs shell. */
export function runModeFor(detach: boolean, command: readonly string[]): RunMode {
  if (detach) return 'detached';
  return command.length > 0 ? 'command' : 'shell';
}

/**
 * Checks every input of a plan as {@link buildRunPlan} does (project directory, image reference,
 * ids, command, network, workdir, volumes, environment, user mapping), in the same order and with
 * the same errors, without building the plan: the early check of a run, before an image build
 * that may take minutes. Returns the mounts of the project and the volumes (`--volume`, config).
 */
export function checkRunPlanInput(input: RunPlanInput): PlannedMount[] {
  const { mounts } = checkedBase(input);
  mergeEnv({ configEnv: input.configEnv, cliEnv: input.cliEnv, quietBootstrap: false });
  identityOf(input);
  return mounts;
}

/** The first decisions of a plan, each input checked: names, project, image, mode, command, network, workdir, mounts. */
function checkedBase(input: RunPlanInput): {
  containerName: string;
  projectDir: string;
  image: string;
  mode: RunMode;
  command: string[];
  network: NetworkPlan;
  workdir: string;
  mounts: PlannedMount[];
} {
  const containerName = containerNameFor(input.sessionName);
  const allow = { home: input.allowHome ?? false, system: input.allowSystemPaths ?? false };
  // A branch session mounts a working copy in mino's own data directory: the user's project is guarded instead.
  if (input.branch) checkProjectDir(input.branch.hostProjectDir, input.homeDir, allow, input.userHomes, input.minoDirs);
  const projectDir = checkProjectDir(
    input.projectDir,
    input.homeDir,
    allow,
    input.userHomes,
    input.branch ? [] : input.minoDirs,
  );
  const image = validateImageRef(input.image);
  checkId('uid', input.hostUid);
  checkId('gid', input.hostGid);
  if (input.shell.length === 0 || input.shell[0] === '')
    throw new MinoError('No default shell configured', { hint: 'Set session.shell, e.g. /bin/bash' });

  const mode = runModeFor(input.detach, input.command);
  const command = input.command.length > 0 ? checkArgv('command', input.command) : checkArgv('shell', input.shell);
  const network = resolveNetwork(input.network, input.egress);
  const workdir = resolveWorkdir(projectDir, input.workdir);
  if (input.branch) checkBranchWorkdir(workdir);
  const mounts = assembleMounts(projectDir, workdir, input.cliVolumes ?? [], input.configVolumes ?? [], {
    homeDir: input.homeDir,
    allow,
    ...(input.userHomes ? { otherHomes: input.userHomes } : {}),
    ...(input.minoDirs ? { minoDirs: input.minoDirs } : {}),
  });
  if (input.branch)
    mounts.push({ source: input.branch.objectsDir, target: ORIGIN_TARGET, readOnly: true, origin: 'branch' });
  return { containerName, projectDir, image, mode, command, network, workdir, mounts };
}

/** A working copy finds the host's objects from a workdir one folder below `/` (workspace/copy-layout.ts). */
function checkBranchWorkdir(workdir: string): void {
  if (workdir.split('/').filter(Boolean).length === 1) return;
  throw new UsageError(
    `--branch needs a one-folder container workdir (such as /project), not ${printable(workdir)}`,
    'Leave container.workdir unset (or set it to /NAME) for branch sessions',
  );
}

/** The user mapping of the plan's container (userns.ts). */
function identityOf(input: RunPlanInput): ReturnType<typeof identityFlags> {
  return identityFlags({
    rootless: input.rootless,
    image: { uid: input.imageUser, gid: input.imageGid },
    projectOwner: input.projectOwner ?? { uid: input.hostUid, gid: input.hostGid },
    rootfulBase: input.rootfulIdBase ?? ROOTFUL_ID_BASE,
  });
}

/**
 * Builds the plan for one `mino run`. Pure: throws a MinoError (UsageError for bad CLI values)
 * naming the offending value on any invalid input; performs no I/O.
 */
export function buildRunPlan(input: RunPlanInput): RunPlan {
  const { containerName, projectDir, image, mode, command, network, workdir, mounts } = checkedBase(input);
  const homeVolume = wantsHomeVolume({
    image,
    noHome: !(input.home ?? false),
    mountTargets: mounts.map((m) => m.target),
  })
    ? homeVolumeName(projectDir)
    : undefined;
  if (homeVolume !== undefined)
    mounts.push({ source: homeVolume, target: HOME_TARGET, readOnly: false, origin: 'home' });
  const sshConfig = input.egress?.sshConfig;
  if (sshConfig && !mounts.some((m) => m.target === sshConfig.target)) {
    mounts.push({ source: sshConfig.source, target: sshConfig.target, readOnly: true, origin: 'egress' });
  }
  const namedVolumes = [...new Set(mounts.flatMap((m) => (m.volume === undefined ? [] : [m.volume])))];
  const warnings: string[] = [];
  const caches: CacheMount[] = [];
  for (const c of input.caches ?? []) {
    if (mounts.some((m) => m.target === c.target)) {
      warnings.push(`The ${c.ecosystem} dependency cache is not mounted: ${c.target} is already a mount of yours`);
      continue;
    }
    caches.push({ ...c });
    mounts.push({ source: c.volume, target: c.target, readOnly: c.readOnly, origin: 'cache' });
  }

  const creds = planCredentials(
    input.credentials,
    image,
    mounts.map((m) => m.target),
  );
  warnings.push(...creds.warnings);
  mounts.push(...creds.mounts);
  // Last: the protections sit on top of the project and volume mounts that hold them.
  const protection = planProtection(input.protect ?? { roots: [] }, mounts);
  warnings.push(...(input.protectWarnings ?? []), ...protection.warnings);
  mounts.push(...protection.mounts.map((m) => ({ ...m, origin: 'protect' as const })));
  const plainEnv = mergeEnv({
    layerEnv: { ...protection.env, ...creds.baseEnv, ...input.layerEnv, ...cacheEnv(caches.map((c) => c.ecosystem)) },
    hostEnv: creds.hostEnv,
    configEnv: input.configEnv,
    credentialEnv: creds.credentialEnv,
    cliEnv: input.cliEnv,
    quietBootstrap: mode === 'detached' || mode === 'command',
  });
  const proxied = withProxyEnv(plainEnv, network);
  warnings.push(...proxied.warnings);
  const env = proxied.env;
  // The env file sets these last (the prelude sources it): a plain copy would only mislead.
  for (const name of creds.secretVariables) delete env[name];
  // mino's own plain values (SSH_AUTH_SOCK=/ssh-agent, proxy placeholders and addresses) are no secrets.
  const own = { ...creds.baseEnv, ...creds.credentialEnv, ...(network.egress?.env ?? {}) };
  for (const key of Object.keys(env)) {
    if (isSecretName(key) && own[key] !== env[key]) {
      warnings.push(
        `${key} looks like a secret but is passed as a plain variable: its value is visible in 'podman inspect' and the host's process list (pass it with -e ${key} instead: mino then takes its value from its own environment and keeps it out of both)`,
      );
    }
  }

  const labels = sessionLabels({
    sessionName: input.sessionName,
    ownerPid: input.ownerPid,
    projectDir,
    minoVersion: input.minoVersion,
    mode,
    stateKey: input.stateKey,
  });
  Object.assign(labels, volumeLabels(namedVolumes, homeVolume), cacheLabels(caches));
  const ids = identityOf(input);
  if (ids.privateDevices && network.mode === 'host') {
    warnings.push(
      "The project belongs to root, so the image's user is host root in this session; with --network host, services on this host that trust root over local (abstract unix) sockets trust it too (use bridge, or a project of a normal user)",
    );
  }
  const attached = mode !== 'detached';

  const spec: ContainerSpec = {
    image,
    command: creds.prelude ? withPrelude(command, creds.preludeParts) : [...command],
    name: containerName,
    labels: { ...labels },
  };
  if (attached) {
    spec.interactive = true;
    if (input.stdinIsTty) spec.tty = true;
    spec.autoRemove = true;
  } else if (input.stdinIsTty) {
    // Started from a terminal: the session gets one of its own, for `mino attach` later.
    spec.interactive = true;
    spec.tty = true;
  } else if (input.command.length === 0) {
    spec.interactive = true;
  }
  if (input.pullNever ?? true) spec.pullNever = true;
  spec.init = true;
  if (ids.userns !== undefined) spec.userns = ids.userns;
  if (ids.uidMap) spec.uidMap = ids.uidMap;
  if (ids.gidMap) spec.gidMap = ids.gidMap;
  if (ids.user !== undefined) spec.user = ids.user;
  spec.workdir = workdir;
  Object.assign(spec, networkSpec(network));
  spec.capDrop = [...(HARDENING.capDrop ?? [])];
  spec.securityOpt = [...(HARDENING.securityOpt ?? [])];
  if (HARDENING.pidsLimit !== undefined && (input.resourceLimits ?? true)) spec.pidsLimit = HARDENING.pidsLimit;
  Object.assign(
    spec,
    readOnlySpec(
      input.readOnly,
      mounts.map((m) => m.target),
    ),
  );
  spec.mounts = toMountSpecs(mounts);
  if (ids.privateDevices) spec.devDir = input.rootfulDeviceDir ?? ROOTFUL_DEVICE_DIR;
  spec.env = env;

  return {
    sessionName: input.sessionName,
    containerName,
    projectDir,
    workdir,
    image,
    command,
    mode,
    launchVerb: attached ? 'run' : 'run-detached',
    attached,
    network,
    mounts,
    homeVolume,
    namedVolumes,
    caches,
    credentials: {
      secretVariables: creds.secretVariables,
      prelude: creds.prelude,
      preludeParts: { ...creds.preludeParts },
      proxy: creds.proxy,
      sessionCa: creds.sessionCa,
      upstreamCa: creds.upstreamCa,
    },
    loginsVolume: creds.mounts.find((m) => m.chown)?.source,
    labels,
    protection,
    identity: {
      rootless: input.rootless,
      hostUid: input.hostUid,
      hostGid: input.hostGid,
      imageUser: input.imageUser,
      ...(input.imageGid === undefined ? {} : { imageGid: input.imageGid }),
      userns: ids.userns,
      uidMap: ids.uidMap ?? [],
      gidMap: ids.gidMap ?? [],
    },
    warnings,
    ...(input.branch ? { branch: { ...input.branch } } : {}),
    spec,
  };
}
