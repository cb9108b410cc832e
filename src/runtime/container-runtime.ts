/**
 * The ContainerRuntime interface: every operation mino needs from a container engine, in one
 * part per resource (engine, container lifecycle, container exec/inspection, images, volumes,
 * secrets; the engine's networks are only counted, by storeInventory).
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
interface SecretEnvSpec {
  /** Name of an existing podman secret. */
  secret: string;
  /** Environment variable the value appears in. */
  target: string;
}

/**
 * A podman secret mounted as a file at `/run/secrets/<target>` (mode 0400, owned by `uid`).
 * Unlike `type=env`, its value never appears in `podman inspect` on any podman version.
 */
interface SecretFileSpec {
  secret: string;
  /** File name under /run/secrets, or an absolute path in the container. */
  target: string;
  /** Owner inside the container (the uid the command runs as). */
  uid?: number;
  /** Readable by every user of the container (0444: a public file, such as a CA bundle); default 0400. */
  public?: boolean;
}

/** How a container is launched: attached (`run`), detached (`run -d`), or created only. */
export type LaunchVerb = 'run' | 'run-detached' | 'create';

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
  /** More named networks the container joins besides `network` (`--network` repeated). */
  extraNetworks?: string[];
  /** Namespaced kernel settings of the container's network namespace (`net.KEY=VALUE`). */
  sysctls?: string[];
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
  /**
   * A host directory of device nodes mounted read-only as the container's /dev, with a fresh
   * devpts at /dev/pts: the engine then binds none of the host's own device nodes in (see
   * launch/userns.ts for when a run needs it).
   */
  devDir?: string;
  /** Plain environment values. Never put secrets here: they end up in argv and `podman inspect`. */
  env?: Record<string, string>;
  /** Files of KEY=VALUE lines (0600, removed by the caller after start). */
  envFiles?: string[];
  /**
   * Secret environment variables from podman secrets. Podman before 5.3 shows their values in
   * `podman inspect` (Config.Env): prefer `secretFiles` there.
   */
  secretEnv?: SecretEnvSpec[];
  /** Secrets mounted as files under /run/secrets. */
  secretFiles?: SecretFileSpec[];
  /** Never pull: fail at once when the image is not local (no registry round trips). */
  pullNever?: boolean;
  /** `--userns` value, e.g. `keep-id` or `keep-id:uid=1000,gid=1000`. */
  userns?: string;
  /** `--uidmap CONTAINER:HOST:SIZE` values (rootful user namespaces). */
  uidMap?: string[];
  /** `--gidmap CONTAINER:HOST:SIZE` values. */
  gidMap?: string[];
  user?: string;
  /** Supplementary groups of the container's processes (`--group-add`), `podman exec`s included. */
  groupAdd?: string[];
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
  /**
   * OCI hook directories for this container (podman's global `--hooks-dir`, repeated). They
   * replace podman's configured ones, so callers pass those too (src/host/oci-hooks-dirs.ts).
   */
  hooksDirs?: string[];
  /** File podman writes the container ID to once the container exists (`--cidfile`; must not exist yet). */
  cidFile?: string;
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
  | 'created'
  | 'running'
  | 'paused'
  | 'exited'
  | 'stopped'
  | 'stopping'
  | 'configured'
  | 'removing'
  | 'unknown';

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
  /** Run root (locks, mounts of running containers). */
  runRoot: string;
  /** containers/storage's driver status (`Native Overlay Diff`, `Backing Filesystem`, ...). */
  graphStatus: Record<string, string>;
  /** Whether overlay diffs natively (from graphStatus); undefined when the driver does not say. */
  nativeOverlayDiff: boolean | undefined;
}

/**
 * An image store other than the engine's default, selected per podman call with the global
 * `--root`, `--runroot` and `--storage-driver` flags (the user's store is never touched).
 */
export interface StoreLocation {
  /** Graph root: images, layers, volumes. */
  graphRoot: string;
  /** Run root: locks and mounts; belongs on a tmpfs such as `$XDG_RUNTIME_DIR`. */
  runRoot: string;
  /** Storage driver, e.g. `overlay` or `vfs`. */
  driver: string;
  /**
   * libpod's tmp dir (`--tmpdir`: its "alive" marker, exit files, events). Give a long-lived
   * store its own, so it is not shared with the user's store; undefined: podman's default.
   */
  tmpDir?: string;
}

/** Facts about one local image (`podman image inspect`). */
export interface ImageFacts {
  /** Full 64-hex image ID. */
  id: string;
  /** `repository:tag` names. */
  names: string[];
  /** Bytes, including the layers it shares with its base. */
  sizeBytes: number;
  /** The image's default user (`Config.User`: `name`, `uid` or `uid:gid`); '' when unset (root). */
  user: string;
  labels: Record<string, string>;
  /** Creation time (RFC 3339), when podman reports it. */
  created: string | undefined;
}

/** One local image of `podman images`, entries of one ID merged. */
export interface LocalImage {
  /** Full 64-hex ID. */
  id: string;
  /** `repository:tag` names (empty for dangling images). */
  names: string[];
  /** Bytes, including the layers it shares with its base. */
  sizeBytes: number;
  labels: Record<string, string>;
  /** Containers (running or not) using it, as podman counts them. */
  containers: number;
  /** Seconds since the epoch. */
  created: number;
}

/** A podman secret (never its value). */
export interface SecretInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Creation time (RFC 3339). */
  createdAt: string | undefined;
}

/** Everything in an image store, as `podman system reset` would remove it. */
export interface StoreInventory {
  images: LocalImage[];
  /** Container names, build containers of buildah/podman build included. */
  containers: string[];
  volumes: VolumeInfo[];
  /** Secret names. */
  secrets: string[];
  /** Network names, podman's default `podman` included. */
  networks: string[];
}

/**
 * Another machine's (or another user's) Podman, driven with podman's remote client: the URL
 * (`ssh://user@host[:port]/socket` or `unix:///socket`) and the ssh key (a path) to reach it.
 */
export interface RemoteEndpoint {
  url: string;
  identity?: string;
  /**
   * HOME of podman's ssh client: its `.ssh/known_hosts` is where the engine's host key is pinned
   * on first contact and checked afterwards (a file of mino's, not the user's own).
   */
  sshHome?: string;
  /**
   * A private directory (0700) where this engine's ssh tunnel lives and outlives the process
   * (ssh-tunnel.ts openSharedTunnel); undefined: one tunnel per process.
   */
  tunnelDir?: string;
}

/** Binary streams of a container run with {@link ContainerLifecycleClient.runStreamed}. */
export interface StreamedRun {
  /** Written to the container's stdin, which is closed at the end (none: stdin is empty). */
  input?: AsyncIterable<Uint8Array>;
  /** Receives the container's stdout chunk by chunk (awaited). */
  onStdout?: (chunk: Buffer) => void | Promise<void>;
  /** Sees each chunk of podman's stderr as it comes (it is also captured in the result). */
  onStderr?: (chunk: Buffer) => void;
}

/** Output of a program or container run to its end. */
export interface RunOutput {
  stdout: string;
  stderr: string;
  /** Exit code (podman's own failures: 125–127), or 128 + n after a signal. */
  exitCode: number;
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
  /** tar `--exclude` patterns, e.g. `./dev/*`. */
  exclude?: string[];
  /** Store numeric owners only (a root file system made in a user namespace). */
  numericOwner?: boolean;
  /**
   * Read the files inside the engine's user namespace ({@link ContainerRuntime.unshare}): for a
   * tree owned by sub-uids, such as a rootless debootstrap.
   */
  inUserNamespace?: boolean;
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

/**
 * Where an exec's output goes when it comes through mino instead of straight to this process's
 * stdout and stderr (chunks as they come; the exec's exit code comes after both ended).
 */
export interface ExecOutput {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

/** Output of a finished command. */
export interface CapturedLogs {
  stdout: string;
  stderr: string;
}

/** Options of {@link ContainerRuntime.attach}. */
export interface AttachOptions {
  /**
   * Key sequence that detaches without stopping the container, in podman's syntax (validated by
   * the caller): e.g. `ctrl-p,ctrl-q`; `''` disables detaching by keys.
   */
  detachKeys: string;
  /** Aborting it ends the attached client (SIGTERM to podman attach); the container runs on. */
  signal?: AbortSignal;
}

/**
 * The engine itself: whether it answers, its facts, its image store as a whole. Every part of
 * a runtime carries the engine's name and store.
 */
export interface EngineClient {
  /** Human-readable name for messages, e.g. `Podman` or `OrbStack (mino)`. */
  readonly name: string;
  /** The image store this runtime works on; undefined for the engine's default store. */
  readonly store: StoreLocation | undefined;

  /** True when the engine can be reached (binary present and answering). */
  isAvailable(): Promise<boolean>;
  /** Makes the engine usable: starts VMs, installs podman in them, provisions subuid ranges. */
  ensureReady(): Promise<void>;
  /** The podman client version (`4.3.1`). */
  version(): Promise<string>;
  /**
   * Engine facts (version, rootless, storage, OCI runtime); cached per instance unless
   * `refresh`. On a rootless user's first call podman creates the image store.
   */
  info(options?: { refresh?: boolean }): Promise<RuntimeInfo>;
  /** The same engine working on another image store (see {@link StoreLocation}). */
  withStore(store: StoreLocation): ContainerRuntime;
  /** Everything the store holds (one podman call per kind of object). */
  storeInventory(): Promise<StoreInventory>;
  /** `podman system reset -f`: removes every image, container, volume and secret of the store. */
  systemReset(): Promise<void>;
  /**
   * `podman system migrate`: restarts the rootless engine's bookkeeping (stops containers whose
   * processes are gone, starts a new pause process). Images, volumes and containers stay.
   */
  systemMigrate(): Promise<void>;
  /**
   * Runs a program on the engine's host inside its rootless user namespace (`podman unshare`),
   * where files of sub-uids (volumes, rootless builds) can be read and removed. A rootful engine
   * runs it directly. Never throws for a non-zero exit.
   */
  unshare(argv: readonly string[]): Promise<RunOutput>;
}

/** Starting, stopping and removing containers. */
export interface ContainerLifecycleClient {
  /** Runs a container detached (`run -d`) and returns its ID. */
  run(spec: ContainerSpec): Promise<string>;
  /**
   * Runs a container attached to this process's stdio in one podman call; returns its exit code.
   * With `ownProcessGroup` podman runs in a process group of its own (no terminal: a Ctrl-C
   * reaches mino only, which forwards it once, see launch/signal-policy.ts forwardSignals).
   */
  runAttached(spec: ContainerSpec, options?: { ownProcessGroup?: boolean }): Promise<number>;
  /**
   * Runs a container to its end with its output captured (probes, short checks). Never throws
   * for a non-zero exit: podman's own failures come back as exit code 125–127 and its stderr.
   */
  runCaptured(spec: ContainerSpec, options?: { timeoutMs?: number }): Promise<RunOutput>;
  /**
   * Runs a container to its end with binary stdin and stdout streams (archives in and out of a
   * volume); its stderr comes back in the result (stdout empty). Never throws for a non-zero exit.
   */
  runStreamed(spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput>;
  /**
   * Runs a command in a running container (`podman exec`) with binary stdin and stdout streams, as
   * {@link runStreamed}; its stderr comes back in the result. Never throws for a non-zero exit
   * (a container that is gone: 125).
   */
  execStreamed(id: string, command: string[], streams: StreamedRun): Promise<RunOutput>;
  /** Stops a container gracefully (SIGTERM, then SIGKILL after `timeoutSeconds`). Missing is fine. */
  stop(id: string, timeoutSeconds?: number): Promise<void>;
  /**
   * Sends `signal` (default KILL) to a container's main process. Resolves true when it was
   * delivered, false when the container is missing or not running (fine: nothing to signal).
   */
  kill(id: string, signal?: string): Promise<boolean>;
  /** Removes a container, forcefully. Missing is fine. */
  remove(id: string): Promise<void>;
  /**
   * Freezes every process of a running container (`podman pause`). Rootless podman on cgroup v1
   * cannot (the container has no cgroup of its own): a NotSupportedError (runtime-errors.ts) says so.
   */
  pause(id: string): Promise<void>;
  /** Thaws a paused container (`podman unpause`). */
  unpause(id: string): Promise<void>;
  /**
   * Renames a container (`podman rename`), running or not. The engine does it atomically: of two
   * callers renaming the same container, exactly one succeeds. Resolves false when the container
   * no longer exists under `id` (another caller won, or it expired); other failures throw.
   */
  renameContainer(id: string, newName: string): Promise<boolean>;
}

/** Looking into running and finished containers: listing, exit codes, logs, exec and attach. */
export interface ContainerExecClient {
  /** Lists containers (running and stopped) carrying all the given labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Waits for a container to exit and returns its code; undefined when it no longer exists. */
  containerExitCode(id: string): Promise<number | undefined>;
  /** Last `lines` lines of output (0 = all), stdout and stderr kept apart. */
  logs(id: string, lines: number): Promise<CapturedLogs>;
  /** Streams logs to this process's stdout/stderr until the container stops or the caller is interrupted. */
  logsFollow(id: string): Promise<void>;
  /**
   * Time of the container's last line of output (its last log entry); undefined when it has
   * printed nothing, or when the container is gone.
   */
  lastOutputAt(id: string): Promise<Date | undefined>;
  /** Runs a command in a running container attached to this process's stdio; returns its exit code. */
  exec(id: string, command: string[], options: ExecOptions): Promise<number>;
  /**
   * Like {@link exec}, and with `ownProcessGroup` podman runs in a process group of its own, so a
   * Ctrl-C meant for mino does not end `podman exec` (which does not forward signals) while the
   * command runs on; mino then forwards the signal itself.
   */
  execSession(
    id: string,
    command: string[],
    options: ExecOptions & { ownProcessGroup?: boolean; output?: ExecOutput },
  ): Promise<number>;
  /**
   * A regular file of a running container, read through the engine's archive API (`podman cp`,
   * a plain HTTP body on a remote engine, not an exec's attach stream); undefined when the
   * container or the file is not there. Bytes beyond `maxBytes` are an error.
   */
  readContainerFile(id: string, path: string, maxBytes: number): Promise<Buffer | undefined>;
  /**
   * Attaches this process's terminal to a running container's main process (`podman attach`,
   * signals not proxied, so ending the client never signals the command). Resolves with podman's
   * exit code when the client detaches (keys, or `signal`) or the container ends.
   */
  attach(id: string, options: AttachOptions): Promise<number>;
}

/** Local images: inspecting, naming, pulling, building, importing, removing. */
export interface ImageClient {
  /** True when the image exists locally. */
  imageExists(image: string): Promise<boolean>;
  /** Facts about a local image; undefined when it does not exist. */
  imageInspect(image: string): Promise<ImageFacts | undefined>;
  /** Every local image (one podman call). */
  imageList(): Promise<LocalImage[]>;
  /** Adds the name `target` to the local image `source` (moves it when another image had it). */
  imageTag(source: string, target: string): Promise<void>;
  /**
   * Pulls an image from its registry, giving up after `timeoutMs` (a firewalled registry can
   * hang for minutes): an EngineError (runtime-errors.ts) then says so.
   */
  imagePull(image: string, options: { timeoutMs: number }): Promise<void>;
  /** Builds an image from a context directory on the podman host. */
  buildImage(contextDir: string, tag: string, options?: BuildOptions): Promise<void>;
  /**
   * Copies `image` from the engine's default store (the user's own) into this runtime's store
   * (mino's own, see {@link StoreLocation}): `podman save` there piped into `podman load` here,
   * names kept. Fails on a runtime that is on the default store itself.
   */
  copyImageFromDefaultStore(image: string): Promise<void>;
  /** Imports files under `rootDir` on the podman host as a single-layer image. */
  importImage(rootDir: string, tag: string, options?: ImportOptions): Promise<void>;
  /** Removes an image. Missing is fine. */
  imageRemove(image: string): Promise<void>;
  /**
   * Path, on this machine, of the file the engine rewrites whenever an image is added, removed or
   * tagged (containers/storage's `<driver>-images/images.json`): its modification time tells
   * whether an image reference may point elsewhere than when it was last inspected, without a
   * podman call. Undefined when the store is not on this machine (OrbStack) or unknown.
   */
  imageStoreIndexPath(): Promise<string | undefined>;
}

/** Volumes. */
export interface VolumeClient {
  /** Creates a volume with labels (no-op when it exists). */
  volumeCreate(name: string, labels: Record<string, string>): Promise<void>;
  /**
   * Removes a volume. Missing is fine. With `force` (the default) podman also removes every
   * container using it, running or not; with `force: false` a volume in use is refused
   * (an InUseError, runtime-errors.ts).
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
}

/** Engine secrets (values in, never out). */
export interface SecretClient {
  /**
   * Creates (or replaces) a podman secret from a value passed on stdin, never argv. With `keep`
   * an existing secret of that name is kept as it is (a content-addressed name: same content).
   */
  secretCreate(
    name: string,
    value: string,
    labels?: Record<string, string>,
    options?: { keep?: boolean },
  ): Promise<void>;
  /** Removes a podman secret. Missing is fine. */
  secretRemove(name: string): Promise<void>;
  /** Secrets carrying all the given labels (to reap those a crashed run left behind). */
  secretList(labels: Record<string, string>): Promise<SecretInfo[]>;
}

/** Networks of the engine (a session's own internal network on a remote engine). */
export interface NetworkClient {
  /**
   * Creates an internal network (no route out, no gateway address, no DNS) with labels and
   * returns its IPv4 subnet (`10.89.3.0/24`).
   */
  networkCreateInternal(name: string, labels: Record<string, string>): Promise<{ subnet: string }>;
  /** Removes a network and every container on it. Missing is fine. */
  networkRemove(name: string): Promise<void>;
}

/**
 * The operations every container backend provides, by resource. Failures are the neutral
 * errors of runtime-errors.ts. A use case that needs one resource only may take the narrower
 * part (e.g. {@link ImageClient}).
 */
export interface ContainerRuntime
  extends EngineClient,
    ContainerLifecycleClient,
    ContainerExecClient,
    ImageClient,
    VolumeClient,
    SecretClient,
    NetworkClient {}
