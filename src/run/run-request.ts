import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import type { RunConfig } from '../config/run-config.js';
import type { BuildEvent } from '../image/build-output.js';
import type { CredentialFlags } from './gather-credentials.js';
import { readUserHomes, type PasswdHome } from '../host/user-homes.js';
import type { PoolSettings } from '../pool/pool-settings.js';
import type { PlanBranch } from '../launch/run-plan.js';

/** What the user asked `mino run` for: CLI flags, already parsed, and the loaded configuration. */
export interface RunRequest {
  name?: string;
  /** Canonical project directory (resolved once, by the caller, before loading the config). */
  projectDir: string;
  image?: string;
  /** `--layers` values (each may be comma-separated). */
  layers?: string[];
  env: string[];
  volumes: string[];
  detach: boolean;
  readOnly: boolean;
  /** `--network bridge|host|none|learn`. */
  network?: string;
  /** `--network-allow` values (each may hold several comma-separated rules). */
  networkAllow?: string[];
  /** `--network-preset dev|registries`. */
  networkPreset?: string;
  /** `--save` with `--network learn`: write the learned allowlist into the project's .mino.toml. */
  saveLearned?: boolean;
  allowHome: boolean;
  /** `--allow-system-paths`: system directories as volumes. */
  allowSystemPaths?: boolean;
  /** `--no-home`: no per-project home volume at /home/developer. */
  noHome?: boolean;
  /** `--no-cache`: no dependency cache volumes. */
  noCache?: boolean;
  /** `--cache-fresh`: start the caches of this run empty. */
  cacheFresh?: boolean;
  /** `--cache-ro`: mount complete caches read-only. */
  cacheRo?: boolean;
  /** Credential flags (`--aws`, `--no-github`, `--ssh-agent`...); undefined = all from the config. */
  credentials?: CredentialFlags;
  /** Values from the config files (below flags and env); undefined = none loaded. */
  config?: RunConfig;
  command: string[];
  dryRun: boolean;
  /** `--fresh`: a new container, never a warm one from the pool. */
  fresh?: boolean;
  /** The `[pool]` settings (default: DEFAULT_POOL_SETTINGS). */
  pool?: PoolSettings;
  /** `--branch [NAME]`: a working copy on branch mino/NAME ('' = named after the session). */
  branch?: string;
  /** `mino fork SESSION`: the branch's working copy starts from that session's (branch tip, uncommitted work). */
  forkFrom?: string;
  /** Set by the branch step (branch/prepare-branch.ts): `projectDir` is then this branch's working copy. */
  workingCopy?: PlanBranch;
}

/** Where `run` writes its own messages (never stdout: that belongs to the command). */
export interface RunIo {
  /** Progress, notices and warnings, for stderr. */
  say(message: string): void;
  /** The dry-run command line, for stdout. */
  print(line: string): void;
  /** What the user must see even with --quiet (the blocked-connections summary, a learned allowlist). */
  report?(line: string): void;
  /** Progress of a composed-image build. */
  buildProgress?: (event: BuildEvent) => void;
}

/**
 * What `mino run` takes from the process and the machine it runs on, read once (by
 * {@link readHostFacts}) so the use case itself reads no globals and can be tested with any values.
 */
export interface HostFacts {
  /** PID of this mino process (owner label of the container). */
  pid: number;
  uid: number;
  gid: number;
  /** The user's home directory, canonical. */
  homeDir: string;
  /** Every user's home directory (passwd database), for the host path guard. */
  userHomes?: readonly PasswdHome[];
  /** Podman runs rootless (a non-root user, or an OrbStack machine). */
  rootless: boolean;
  /** cgroup v1 host: rootless podman cannot enforce resource limits there. */
  cgroupV1: boolean;
  stdinIsTty: boolean;
  /** `MINO_LAYERS`. */
  envLayers: string | undefined;
  /** `MINO_IMAGE`. */
  envImage: string | undefined;
  /** Podman runs on this machine (not in an OrbStack VM): egress proxies need that. */
  localEngine: boolean;
  /** mino's environment: egress runtime directory, registry configuration, passthrough, `-e KEY`, the provider CLIs, SSH_AUTH_SOCK. */
  env: NodeJS.ProcessEnv;
}

/** Reads the {@link HostFacts} of this process. */
export function readHostFacts(rootless: boolean, env: NodeJS.ProcessEnv = process.env, localEngine = true): HostFacts {
  let home = homedir();
  try {
    home = realpathSync(home);
  } catch {
    // keep it as it is; the plan refuses a non-canonical home with a clear error
  }
  return {
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    homeDir: home,
    userHomes: readUserHomes(),
    rootless,
    cgroupV1: process.platform === 'linux' && !existsSync('/sys/fs/cgroup/cgroup.controllers'),
    stdinIsTty: Boolean(process.stdin.isTTY),
    envLayers: env.MINO_LAYERS,
    envImage: env.MINO_IMAGE,
    localEngine,
    env,
  };
}
