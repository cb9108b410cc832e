import type { ExecResult } from '../common/exec.js';

/**
 * The ContainerRuntime interface: every operation mino needs from a container engine.
 * Implemented by PodmanRuntime (native Linux, rootless or rootful) and OrbStackRuntime
 * (`orb -m <vm> podman …` on macOS). Knows containers, images and volumes; nothing about sessions.
 */

/** A bind mount or named-volume mount (`-v source:target[:options]`). */
export interface MountSpec {
  /** Absolute host path, or a volume name. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  /** Mount read-only. */
  readOnly?: boolean;
  /**
   * Podman's `U` option: chown the volume's contents to the container's user on every start
   * (for a small volume shared by sessions whose images run as different users).
   */
  chown?: boolean;
}

/** A podman secret exposed to the container as an environment variable (`type=env`). */
export interface SecretEnvSpec {
  /** Name of an existing podman secret. */
  secret: string;
  /** Environment variable the value appears in. */
  target: string;
}

/**
 * A podman secret mounted as a file at `/run/secrets/<target>` (mode 0400, owned by `uid`).
 * Unlike `type=env`, its value never appears in `podman inspect` on any podman version.
 */
export interface SecretFileSpec {
  secret: string;
  /** File name under /run/secrets. */
  target: string;
  /** Owner inside the container (the uid the command runs as). */
  uid?: number;
}

/** Everything needed to create or run one container; plain data, turned into podman arguments. */
export interface ContainerSpec {
  image: string;
  /** Command and arguments; empty means the image default. */
  command: string[];
  name?: string;
  labels?: Record<string, string>;
  workdir?: string;
  /** `bridge`, `host`, `none`, or a named network. */
  network?: string;
  capDrop?: string[];
  capAdd?: string[];
  securityOpt?: string[];
  /** 0 or undefined: podman default. */
  pidsLimit?: number;
  /** `--ulimit` values such as `nofile=1024:1024`. */
  ulimits?: string[];
  readOnly?: boolean;
  tmpfs?: string[];
  mounts?: MountSpec[];
  /** Plain environment values. Never put secrets here: they end up in argv and `podman inspect`. */
  env?: Record<string, string>;
  /** Files of KEY=VALUE lines (0600, removed by the caller after start). */
  envFiles?: string[];
  /**
   * Secret environment variables from podman secrets. Podman before 5.3 shows their values in
   * `podman inspect` (Config.Env): check `capabilities()` and prefer `secretFiles` there.
   */
  secretEnv?: SecretEnvSpec[];
  /** Secrets mounted as files under /run/secrets. */
  secretFiles?: SecretFileSpec[];
  /** Never pull: fail at once when the image is not local (no registry round trips). */
  pullNever?: boolean;
  /** `--userns` value, e.g. `keep-id` or `keep-id:uid=1000,gid=1000`. */
  userns?: string;
  user?: string;
  hostname?: string;
  /** Run a tiny init as PID 1 so signals reach the command and `stop` is prompt. */
  init?: boolean;
  /** Keep stdin open (`-i`). */
  interactive?: boolean;
  /** Allocate a pseudo-terminal (`-t`). Only when stdin is a terminal. */
  tty?: boolean;
  /** Remove the container when it exits (`--rm`). */
  autoRemove?: boolean;
  /** Seconds `podman stop` waits before SIGKILL. */
  stopTimeout?: number;
}

/** A podman volume as reported by `podman volume ls/inspect`. */
export interface VolumeInfo {
  name: string;
  labels: Record<string, string>;
  /** Mount point path on the podman host (inside the VM for OrbStack). */
  mountpoint?: string;
  /** Creation timestamp (RFC 3339). */
  createdAt?: string;
  /** Size in bytes, when measured. */
  sizeBytes?: number;
}

/** Container lifecycle state as podman reports it. */
export type ContainerState =
  | 'created' | 'running' | 'paused' | 'exited' | 'stopped' | 'stopping' | 'configured' | 'removing' | 'unknown';

/** One container from `podman ps -a`. */
export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  state: ContainerState;
  labels: Record<string, string>;
  /** Exit code once the container has exited. */
  exitCode: number | undefined;
  /** Creation time, seconds since the epoch. */
  createdAt: number;
}

/** Facts about the engine, for `mino status` and setup diagnostics. */
export interface RuntimeInfo {
  version: string;
  rootless: boolean;
  storageDriver: string;
  ociRuntime: string;
  cgroupVersion: string;
  cgroupManager: string;
  networkBackend: string;
  /** Storage root where images and volumes live. */
  graphRoot: string;
}

/** What this engine can do safely, derived from its version. */
export interface RuntimeCapabilities {
  /** `--secret type=env` values are masked in `podman inspect` (podman >= 5.3). */
  envSecretsHiddenFromInspect: boolean;
}

/** Options for building an image. */
export interface BuildOptions {
  /** Containerfile path relative to the context (default `Dockerfile`/`Containerfile`). */
  file?: string;
  labels?: Record<string, string>;
  buildArgs?: Record<string, string>;
  /** Called with each line of build output (stdout and stderr interleaved). */
  onOutput?: (line: string) => void;
  /** Aborts the build. */
  signal?: AbortSignal;
}

/** Options of {@link ContainerRuntime.importImage}. */
export interface ImportOptions {
  /** Paths relative to the root to include (default: the whole root, `.`). */
  paths?: string[];
  /** Follow symbolic links and store the files they point to. */
  dereference?: boolean;
  /** Dockerfile-style instructions applied to the image (`CMD ["/bin/sh"]`, `USER 1000`). */
  changes?: string[];
}

/** How `exec` attaches to the caller's terminal. */
export interface ExecOptions {
  /** Allocate a pseudo-terminal (only meaningful when stdin is one). */
  tty: boolean;
  /** Keep stdin attached (default true). */
  interactive?: boolean;
  workdir?: string;
  user?: string;
  env?: Record<string, string>;
}

/** Output of a finished command. */
export interface CapturedLogs {
  stdout: string;
  stderr: string;
}

/** The operations every container backend provides. */
export interface ContainerRuntime {
  /** Human-readable name for messages, e.g. `Podman` or `OrbStack (mino)`. */
  readonly name: string;

  /** True when the engine can be reached (binary present and answering). */
  isAvailable(): Promise<boolean>;
  /** Makes the engine usable: starts VMs, installs podman in them, provisions subuid ranges. */
  ensureReady(): Promise<void>;
  /** Engine facts (version, rootless, storage, OCI runtime). */
  info(): Promise<RuntimeInfo>;
  /** What the engine can do safely (from its version). */
  capabilities(): Promise<RuntimeCapabilities>;
  /** Runs a helper program on the machine where podman runs (this host, or the VM). */
  hostExec(argv: readonly string[], input?: string): Promise<ExecResult>;

  /** Runs a container detached (`run -d`) and returns its ID. */
  run(spec: ContainerSpec): Promise<string>;
  /** Runs a container attached to this process's stdio in one podman call; returns its exit code. */
  runAttached(spec: ContainerSpec): Promise<number>;
  /** Creates a container without starting it; returns its ID. */
  create(spec: ContainerSpec): Promise<string>;
  /** Starts a created container attached to this process's stdio; returns its exit code. */
  startAttached(id: string): Promise<number>;
  /** Starts a created container in the background. */
  startDetached(id: string): Promise<void>;
  /** Stops a container gracefully (SIGTERM, then SIGKILL after `timeoutSeconds`). Missing is fine. */
  stop(id: string, timeoutSeconds?: number): Promise<void>;
  /** Kills a container at once. Missing is fine. */
  kill(id: string, signal?: string): Promise<void>;
  /** Removes a container, forcefully. Missing is fine. */
  remove(id: string): Promise<void>;
  /** Removes stopped containers carrying all the given labels (never unlabelled ones). */
  containerPrune(labels: Record<string, string>): Promise<string[]>;
  /** Lists containers (running and stopped) carrying all the given labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Waits for a container to exit and returns its code; undefined when it no longer exists. */
  containerExitCode(id: string): Promise<number | undefined>;
  /** Last `lines` lines of output (0 = all), stdout and stderr kept apart. */
  logs(id: string, lines: number): Promise<CapturedLogs>;
  /** Streams logs to this process's stdout/stderr until the container stops or the caller is interrupted. */
  logsFollow(id: string): Promise<void>;
  /**
   * Follows logs until a line contains `marker` (true) or `timeoutMs` passes (false).
   * Every line seen is passed to `onLine`.
   */
  logsFollowUntil(id: string, marker: string, timeoutMs: number, onLine?: (line: string) => void): Promise<boolean>;
  /** Runs a command in a running container attached to this process's stdio; returns its exit code. */
  exec(id: string, command: string[], options: ExecOptions): Promise<number>;

  /** True when the image exists locally. */
  imageExists(image: string): Promise<boolean>;
  /** Builds an image from a context directory on the podman host. */
  buildImage(contextDir: string, tag: string, options?: BuildOptions): Promise<void>;
  /** Imports files under `rootDir` on the podman host as a single-layer image. */
  importImage(rootDir: string, tag: string, options?: ImportOptions): Promise<void>;
  /** Removes an image. Missing is fine. */
  imageRemove(image: string): Promise<void>;
  /** Lists `repository:tag` names of local images whose name starts with `prefix`. */
  imageListPrefixed(prefix: string): Promise<string[]>;

  /** Creates a volume with labels (no-op when it exists). */
  volumeCreate(name: string, labels: Record<string, string>): Promise<void>;
  /**
   * Removes a volume. Missing is fine. With `force` (the default) podman also removes every
   * container using it, running or not; with `force: false` a volume in use is refused
   * ({@link VolumeInUseError}).
   */
  volumeRemove(name: string, options?: { force?: boolean }): Promise<void>;
  /** Lists volumes whose name starts with `prefix`. */
  volumeList(prefix: string): Promise<VolumeInfo[]>;
  /** Inspects one volume; undefined when it does not exist. */
  volumeInspect(name: string): Promise<VolumeInfo | undefined>;
  /**
   * Bytes used by each volume whose name starts with `prefix`, measured in one host call. With
   * `listed` (volumes the caller already listed), those of them matching `prefix` are measured
   * without listing again.
   */
  volumeDiskUsage(prefix: string, listed?: readonly VolumeInfo[]): Promise<Map<string, number>>;

  /** Creates (or replaces) a podman secret from a value passed on stdin, never argv. */
  secretCreate(name: string, value: string, labels?: Record<string, string>): Promise<void>;
  /** Removes a podman secret. Missing is fine. */
  secretRemove(name: string): Promise<void>;
}
