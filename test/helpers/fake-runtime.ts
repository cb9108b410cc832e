import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type {
  AttachOptions,
  BuildOptions,
  CapturedLogs,
  ContainerRuntime,
  ContainerSpec,
  ContainerSummary,
  ExecOptions,
  ExecOutput,
  ImageFacts,
  ImportOptions,
  LocalImage,
  RunOutput,
  RuntimeInfo,
  SecretInfo,
  StoreInventory,
  StoreLocation,
  StreamedRun,
  VolumeInfo,
} from '../../src/runtime/container-runtime.js';
import { podmanError, volumeInUseError } from '../../src/runtime/podman/podman-error.js';
import { parseImageList } from '../../src/runtime/podman/podman-json.js';

/**
 * A recording fake of the whole ContainerRuntime, for use-case unit tests without podman:
 * images, containers, volumes, secrets and networks live in memory and behave like podman's
 * (label filters, `volume rm` refused while a container uses the volume, `rmi` refused while a
 * container uses the image, replace-on-create secrets). Its failures are the engine-neutral
 * errors podman's would map to (runtime/podman/podman-error.ts), with podman's messages. Every
 * call is recorded with its arguments; any method can be scripted (`on`) or made to fail (`failWith`).
 */

/** Names of the methods of ContainerRuntime. */
export type RuntimeMethod = {
  [K in keyof ContainerRuntime]: ContainerRuntime[K] extends (...args: never[]) => unknown ? K : never;
}[keyof ContainerRuntime];

type Args<M extends RuntimeMethod> = Parameters<ContainerRuntime[M]>;
type Result<M extends RuntimeMethod> = Awaited<ReturnType<ContainerRuntime[M]>>;

/** A scripted replacement for one method. */
export type Handler<M extends RuntimeMethod> = (...args: Args<M>) => Result<M> | Promise<Result<M>>;

/** One recorded call. */
export interface FakeCall {
  method: RuntimeMethod;
  args: unknown[];
  /** The store of a runtime made by `withStore`; undefined for the default store. */
  store: StoreLocation | undefined;
}

/** A container as the fake keeps it: what podman lists, plus the volumes it mounts. */
export interface FakeContainer extends ContainerSummary {
  /** Names of the volumes it mounts (podman refuses to remove those without force). */
  volumes: string[];
  /** Output `logs` returns. */
  logs?: CapturedLogs;
  /** Time of the last output `lastOutputAt` reports. */
  lastOutput?: Date;
  /** Files `readContainerFile` finds in it, by path. */
  files?: Record<string, Buffer>;
}

/** A local image as the fake keeps it. */
export interface FakeImage extends LocalImage {
  /** `Config.User` ('' = root). */
  user: string;
}

/** A secret as the fake keeps it (the value too, so tests can check it arrived). */
export interface FakeSecret extends SecretInfo {
  value: string;
}

/** Facts `info()` reports unless a test changes them. */
export const FAKE_INFO: RuntimeInfo = {
  version: '4.3.1',
  rootless: true,
  storageDriver: 'overlay',
  ociRuntime: 'runc',
  cgroupVersion: 'v1',
  cgroupManager: 'cgroupfs',
  networkBackend: 'netavark',
  graphRoot: '/home/ann/.local/share/containers/storage',
  runRoot: '/run/user/1000/containers',
  graphStatus: { 'Native Overlay Diff': 'true' },
  nativeOverlayDiff: true,
};

/** The images of a `podman images --format json` fixture under test/fixtures/podman, as the fake keeps them. */
export function fixtureImages(name: string): FakeImage[] {
  const text = readFileSync(new URL(`../fixtures/podman/${name}`, import.meta.url), 'utf8');
  return parseImageList(text).map((i) => ({ ...i, user: '' }));
}

/** A 64-hex ID derived from a text, so tests get stable IDs. */
function fakeId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** A container summary for tests. */
export function fakeContainer(
  name: string,
  state: ContainerSummary['state'],
  labels: Record<string, string> = {},
  options: { exitCode?: number; volumes?: string[]; image?: string } = {},
): FakeContainer {
  return {
    id: fakeId(`container ${name}`),
    name,
    image: options.image ?? 'localhost/x:1',
    state,
    labels,
    exitCode: options.exitCode,
    createdAt: 0,
    volumes: options.volumes ?? [],
  };
}

/** True when `labels` carries every filter label (`''` = the key with any value), as `podman --filter label=`. */
function matchesLabels(labels: Record<string, string>, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([k, v]) => k in labels && (v === '' || labels[k] === v));
}

/** `name` as podman stores it (`localhost/` for unqualified local names is not added: names are kept as given). */
function sameImageName(a: string, b: string): boolean {
  const strip = (n: string): string => n.replace(/^localhost\//, '');
  return strip(a) === strip(b);
}

type AnyHandler = (...args: never[]) => unknown;

/** The recording fake runtime; see the module comment. */
export class FakeRuntime implements ContainerRuntime {
  readonly name: string;
  readonly store: StoreLocation | undefined;

  /** What `info()` returns (mutable). */
  engineInfo: RuntimeInfo = { ...FAKE_INFO };
  images: FakeImage[] = [];
  containers: FakeContainer[] = [];
  volumes = new Map<string, VolumeInfo>();
  /** Bytes `volumeDiskUsage` reports per volume; a volume without an entry is left out (not measured). */
  usage = new Map<string, number>();
  secrets = new Map<string, FakeSecret>();
  /** Network names; podman's default is there from the start. */
  networks: string[] = ['podman'];
  /** Labels of the networks created (networkCreateInternal). */
  networkLabels = new Map<string, Record<string, string>>();
  /** How many times `systemReset` ran. */
  resets = 0;
  /** Runtimes made by `withStore`, in creation order. */
  readonly scratchStores: FakeRuntime[] = [];
  /** The runtime on the default store this one was made from by `withStore` (undefined: this is it). */
  defaultStore: FakeRuntime | undefined;
  /** Called with every runtime `withStore` makes, before it is returned (to script it). */
  onWithStore: ((scratch: FakeRuntime) => void) | undefined;

  /** Every call so far, those of the runtimes `withStore` made included (their `store` says so). */
  readonly calls: FakeCall[];
  private readonly handlers: Map<RuntimeMethod, AnyHandler>;
  private sequence = 0;

  constructor(
    options: {
      name?: string;
      store?: StoreLocation;
      calls?: FakeCall[];
      handlers?: Map<RuntimeMethod, AnyHandler>;
    } = {},
  ) {
    this.name = options.name ?? 'Fake';
    this.store = options.store;
    this.calls = options.calls ?? [];
    this.handlers = options.handlers ?? new Map();
  }

  /** Forgets the calls recorded so far. */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Method names of the calls so far, in order. */
  callNames(): RuntimeMethod[] {
    return this.calls.map((c) => c.method);
  }

  /**
   * The calls as short lines, `method arg …`: strings and numbers as they are, objects as JSON,
   * lists of objects as `[n items]` (e.g. `volumeRemove mino-x {"force":false}`).
   */
  callLog(): string[] {
    const show = (a: unknown): string => {
      if (typeof a === 'string' || typeof a === 'number') return String(a);
      if (Array.isArray(a) && a.some((x) => typeof x === 'object' && x !== null)) return `[${a.length} items]`;
      return JSON.stringify(a);
    };
    return this.calls.map((c) => [c.method, ...c.args.map(show)].join(' '));
  }

  /** The argument lists of every call to `method`. */
  callsTo<M extends RuntimeMethod>(method: M): Array<Args<M>> {
    return this.calls.filter((c) => c.method === method).map((c) => c.args as Args<M>);
  }

  /** Replaces `method` by `handler` (still recorded) until {@link off}; runtimes `withStore` makes later start with it too. */
  on<M extends RuntimeMethod>(method: M, handler: Handler<M>): this {
    this.handlers.set(method, handler as AnyHandler);
    return this;
  }

  /** Makes every call to `method` fail with `error` until {@link off}. */
  failWith(method: RuntimeMethod, error: Error): this {
    this.handlers.set(method, () => {
      throw error;
    });
    return this;
  }

  /** Restores the in-memory behaviour of `method`. */
  off(method: RuntimeMethod): this {
    this.handlers.delete(method);
    return this;
  }

  /** Adds a local image named `name` (more names, labels, user, size as given); returns it. */
  addImage(name: string, facts: Partial<FakeImage> = {}): FakeImage {
    const image: FakeImage = {
      id: fakeId(`image ${name}`),
      names: [name],
      sizeBytes: 1_000_000,
      labels: {},
      containers: 0,
      created: 0,
      user: '',
      ...facts,
    };
    this.images.push(image);
    return image;
  }

  /** The image a name refers to. */
  findImage(ref: string): FakeImage | undefined {
    return this.images.find((i) => i.id === ref || i.names.some((n) => sameImageName(n, ref)));
  }

  /** Records the call, then runs the scripted handler or the in-memory behaviour. */
  private async call<M extends RuntimeMethod>(
    method: M,
    args: Args<M>,
    impl: () => Result<M> | Promise<Result<M>>,
  ): Promise<Result<M>> {
    this.calls.push({ method, args: [...args], store: this.store });
    const handler = this.handlers.get(method) as Handler<M> | undefined;
    return handler ? handler(...args) : impl();
  }

  private nextId(what: string): string {
    this.sequence += 1;
    return fakeId(`${what} ${this.sequence} ${Math.random()}`);
  }

  isAvailable(): Promise<boolean> {
    return this.call('isAvailable', [], () => true);
  }

  ensureReady(): Promise<void> {
    return this.call('ensureReady', [], () => undefined);
  }

  version(): Promise<string> {
    return this.call('version', [], () => this.engineInfo.version);
  }

  info(options?: { refresh?: boolean }): Promise<RuntimeInfo> {
    return this.call('info', options === undefined ? [] : [options], () => ({ ...this.engineInfo }));
  }

  withStore(store: StoreLocation): ContainerRuntime {
    // Same call log; a copy of the scripted handlers, which `onWithStore` may change.
    const scratch = new FakeRuntime({ name: this.name, store, calls: this.calls, handlers: new Map(this.handlers) });
    scratch.defaultStore = this.store ? this.defaultStore : this;
    this.scratchStores.push(scratch);
    this.onWithStore?.(scratch);
    return scratch;
  }

  storeInventory(): Promise<StoreInventory> {
    return this.call('storeInventory', [], () => ({
      images: this.images.map((i) => ({ ...i, names: [...i.names] })),
      containers: this.containers.map((c) => c.name),
      volumes: [...this.volumes.values()],
      secrets: [...this.secrets.keys()],
      networks: [...this.networks],
    }));
  }

  systemReset(): Promise<void> {
    return this.call('systemReset', [], () => {
      this.resets += 1;
      this.images = [];
      this.containers = [];
      this.volumes.clear();
      this.secrets.clear();
      this.networks = ['podman'];
    });
  }

  systemMigrate(): Promise<void> {
    return this.call('systemMigrate', [], () => undefined);
  }

  unshare(argv: readonly string[]): Promise<RunOutput> {
    return this.call('unshare', [argv], () => ({ stdout: '', stderr: '', exitCode: 0 }));
  }

  /** Adds the container a spec describes (running, or exited with `exitCode`). */
  private startContainer(spec: ContainerSpec, exitCode?: number): FakeContainer {
    if (!this.findImage(spec.image)) throw podmanError(['run'], 125, `Error: ${spec.image}: image not known`);
    const container: FakeContainer = {
      id: this.nextId('container'),
      name: spec.name ?? `fake_${this.sequence}`,
      image: spec.image,
      state: exitCode === undefined ? 'running' : 'exited',
      labels: { ...spec.labels },
      exitCode,
      createdAt: Math.floor(Date.now() / 1000),
      volumes: (spec.mounts ?? []).filter((m) => !m.source.startsWith('/')).map((m) => m.source),
    };
    if (!(exitCode !== undefined && spec.autoRemove)) this.containers.push(container);
    if (spec.cidFile !== undefined) writeFileSync(spec.cidFile, container.id);
    return container;
  }

  run(spec: ContainerSpec): Promise<string> {
    return this.call('run', [spec], () => this.startContainer(spec).id);
  }

  runAttached(spec: ContainerSpec, options?: { ownProcessGroup?: boolean }): Promise<number> {
    return this.call('runAttached', options === undefined ? [spec] : [spec, options], () => {
      this.startContainer(spec, 0);
      return 0;
    });
  }

  runCaptured(spec: ContainerSpec, options?: { timeoutMs?: number }): Promise<RunOutput> {
    return this.call('runCaptured', options === undefined ? [spec] : [spec, options], () => {
      this.startContainer(spec, 0);
      return { stdout: '', stderr: '', exitCode: 0 };
    });
  }

  runStreamed(spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput> {
    return this.call('runStreamed', [spec, streams], () => ({ stdout: '', stderr: '', exitCode: 0 }));
  }

  execStreamed(id: string, command: string[], streams: StreamedRun): Promise<RunOutput> {
    return this.call('execStreamed', [id, command, streams], () => ({
      stdout: '',
      stderr: '',
      exitCode: this.container(id)?.state === 'running' ? 0 : 125,
    }));
  }

  private container(ref: string): FakeContainer | undefined {
    return this.containers.find((c) => c.id === ref || c.id.startsWith(ref) || c.name === ref);
  }

  stop(id: string, timeoutSeconds?: number): Promise<void> {
    return this.call('stop', timeoutSeconds === undefined ? [id] : [id, timeoutSeconds], () => {
      const c = this.container(id);
      if (c && c.state === 'running') Object.assign(c, { state: 'exited', exitCode: 143 });
    });
  }

  kill(id: string, signal?: string): Promise<boolean> {
    return this.call('kill', signal === undefined ? [id] : [id, signal], () => {
      const c = this.container(id);
      if (c?.state !== 'running') return false;
      // Only KILL ends the fake's command; another signal is delivered (its command decides).
      if (signal === undefined || signal === 'KILL') Object.assign(c, { state: 'exited', exitCode: 137 });
      return true;
    });
  }

  remove(id: string): Promise<void> {
    return this.call('remove', [id], () => {
      const c = this.container(id);
      this.containers = this.containers.filter((x) => x !== c);
    });
  }

  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.call('listContainers', [labels], () =>
      this.containers
        .filter((c) => matchesLabels(c.labels, labels))
        .map(({ volumes: _v, logs: _l, lastOutput: _o, ...summary }) => ({
          ...summary,
          labels: { ...summary.labels },
        })),
    );
  }

  containerExitCode(id: string): Promise<number | undefined> {
    return this.call('containerExitCode', [id], () => {
      const c = this.container(id);
      return c ? (c.exitCode ?? 0) : undefined;
    });
  }

  logs(id: string, lines: number): Promise<CapturedLogs> {
    return this.call('logs', [id, lines], () => {
      const c = this.container(id);
      if (!c) throw podmanError(['logs'], 125, `Error: no container with name or ID "${id}" found: no such container`);
      return c.logs ?? { stdout: '', stderr: '' };
    });
  }

  logsFollow(id: string): Promise<void> {
    return this.call('logsFollow', [id], () => undefined);
  }

  exec(id: string, command: string[], options: ExecOptions): Promise<number> {
    return this.call('exec', [id, command, options], () => {
      const c = this.container(id);
      if (c?.state !== 'running')
        throw podmanError(
          ['exec'],
          125,
          `Error: can only create exec sessions on running containers: container state improper`,
        );
      return 0;
    });
  }

  copyImageFromDefaultStore(image: string): Promise<void> {
    return this.call('copyImageFromDefaultStore', [image], () => {
      const found = this.defaultStore?.findImage(image);
      if (!this.store || !found) throw podmanError(['save', image], 125, `Error: ${image}: image not known`);
      // Like `podman load`: the names move from an older image of this store to the loaded one.
      for (const mine of this.images)
        mine.names = mine.names.filter((n) => !found.names.some((f) => sameImageName(n, f)));
      this.images.push({ ...found, names: [...found.names] });
    });
  }

  imageExists(image: string): Promise<boolean> {
    return this.call('imageExists', [image], () => this.findImage(image) !== undefined);
  }

  imageInspect(image: string): Promise<ImageFacts | undefined> {
    return this.call('imageInspect', [image], () => {
      const i = this.findImage(image);
      return (
        i && {
          id: i.id,
          names: [...i.names],
          sizeBytes: i.sizeBytes,
          user: i.user,
          labels: { ...i.labels },
          created: undefined,
        }
      );
    });
  }

  imageList(): Promise<LocalImage[]> {
    return this.call('imageList', [], () => this.images.map(({ user: _u, ...i }) => ({ ...i, names: [...i.names] })));
  }

  imageTag(source: string, target: string): Promise<void> {
    return this.call('imageTag', [source, target], () => {
      const image = this.findImage(source);
      if (!image) throw podmanError(['tag'], 125, `Error: ${source}: image not known`);
      for (const other of this.images) other.names = other.names.filter((n) => !sameImageName(n, target));
      image.names.push(target);
    });
  }

  imagePull(image: string, options: { timeoutMs: number }): Promise<void> {
    return this.call('imagePull', [image, options], () => {
      // Like this machine: no registry answers.
      throw podmanError(
        ['pull', '-q', image],
        125,
        `Error: initializing source docker://${image}: pinging container registry: no such host`,
      );
    });
  }

  buildImage(contextDir: string, tag: string, options?: BuildOptions): Promise<void> {
    return this.call('buildImage', options === undefined ? [contextDir, tag] : [contextDir, tag, options], () => {
      options?.onOutput?.(`STEP 1/1: FROM scratch`);
      this.addImage(tag, { id: this.nextId('image'), labels: { ...options?.labels } });
    });
  }

  importImage(rootDir: string, tag: string, options?: ImportOptions): Promise<void> {
    return this.call('importImage', options === undefined ? [rootDir, tag] : [rootDir, tag, options], () => {
      this.addImage(tag, { id: this.nextId('image') });
    });
  }

  imageRemove(image: string): Promise<void> {
    return this.call('imageRemove', [image], () => {
      const found = this.findImage(image);
      if (!found) return;
      const user = this.containers.find((c) => this.findImage(c.image) === found);
      if (user) throw podmanError(['rmi'], 2, `Error: image used by ${user.id}: image is in use by a container`);
      found.names = found.names.filter((n) => !sameImageName(n, image));
      if (found.names.length === 0 || found.id === image) this.images = this.images.filter((i) => i !== found);
    });
  }

  volumeCreate(name: string, labels: Record<string, string>): Promise<void> {
    return this.call('volumeCreate', [name, labels], () => {
      if (!this.volumes.has(name)) {
        this.volumes.set(name, {
          name,
          labels: { ...labels },
          mountpoint: `/fake/volumes/${name}/_data`,
          createdAt: new Date().toISOString(),
        });
      }
    });
  }

  volumeRemove(name: string, options?: { force?: boolean }): Promise<void> {
    return this.call('volumeRemove', options === undefined ? [name] : [name, options], () => {
      if (!this.volumes.has(name)) return;
      const users = this.containers.filter((c) => c.volumes.includes(name));
      if (users.length > 0) {
        if (options?.force === false)
          throw volumeInUseError(
            name,
            2,
            `Error: volume is being used by the following container(s): ${users.map((u) => u.id).join(' ')}: volume is being used`,
          );
        this.containers = this.containers.filter((c) => !users.includes(c));
      }
      this.volumes.delete(name);
    });
  }

  volumeList(prefix: string): Promise<VolumeInfo[]> {
    return this.call('volumeList', [prefix], () =>
      [...this.volumes.values()].filter((v) => v.name.startsWith(prefix)).map((v) => ({ ...v })),
    );
  }

  volumeInspect(name: string): Promise<VolumeInfo | undefined> {
    return this.call('volumeInspect', [name], () => {
      const v = this.volumes.get(name);
      return v && { ...v };
    });
  }

  volumeDiskUsage(prefix: string, listed?: readonly VolumeInfo[]): Promise<Map<string, number>> {
    return this.call('volumeDiskUsage', listed === undefined ? [prefix] : [prefix, listed], () => {
      const names = (listed ?? [...this.volumes.values()])
        .map((v) => v.name)
        .filter((n) => n.startsWith(prefix) && this.volumes.has(n));
      return new Map(names.filter((n) => this.usage.has(n)).map((n) => [n, this.usage.get(n) ?? 0]));
    });
  }

  secretCreate(
    name: string,
    value: string,
    labels?: Record<string, string>,
    options?: { keep?: boolean },
  ): Promise<void> {
    const args: Parameters<ContainerRuntime['secretCreate']> =
      options !== undefined
        ? [name, value, labels ?? {}, options]
        : labels === undefined
          ? [name, value]
          : [name, value, labels];
    return this.call('secretCreate', args, () => {
      if (options?.keep && this.secrets.has(name)) return;
      this.secrets.set(name, {
        id: this.nextId('secret').slice(0, 25),
        name,
        value,
        labels: { ...labels },
        createdAt: new Date().toISOString(),
      });
    });
  }

  networkCreateInternal(name: string, labels: Record<string, string>): Promise<{ subnet: string }> {
    return this.call('networkCreateInternal', [name, labels], () => {
      if (this.networks.includes(name))
        throw podmanError(
          ['network', 'create'],
          125,
          `Error: network name ${name} already used: network already exists`,
        );
      this.networks = [...this.networks, name];
      this.networkLabels.set(name, { ...labels });
      return { subnet: '10.89.7.0/24' };
    });
  }

  networkRemove(name: string): Promise<void> {
    return this.call('networkRemove', [name], () => {
      this.networks = this.networks.filter((n) => n !== name);
      this.networkLabels.delete(name);
    });
  }

  secretRemove(name: string): Promise<void> {
    return this.call('secretRemove', [name], () => {
      this.secrets.delete(name);
    });
  }

  secretList(labels: Record<string, string>): Promise<SecretInfo[]> {
    return this.call('secretList', [labels], () =>
      [...this.secrets.values()]
        .filter((s) => matchesLabels(s.labels, labels))
        .map(({ value: _v, ...info }) => ({ ...info, labels: { ...info.labels } })),
    );
  }

  // lifecycle
  pause(id: string): Promise<void> {
    return this.call('pause', [id], () => {
      const c = this.container(id);
      if (!c) throw podmanError(['pause'], 125, `Error: no container with name or ID "${id}" found: no such container`);
      if (this.engineInfo.rootless && this.engineInfo.cgroupVersion === 'v1') {
        throw podmanError(
          ['pause'],
          125,
          'Error: can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup',
        );
      }
      if (c.state !== 'running')
        throw podmanError(['pause'], 125, `Error: "${c.id}" is not running, can't pause: container state improper`);
      c.state = 'paused';
    });
  }

  unpause(id: string): Promise<void> {
    return this.call('unpause', [id], () => {
      const c = this.container(id);
      if (!c)
        throw podmanError(['unpause'], 125, `Error: no container with name or ID "${id}" found: no such container`);
      if (c.state !== 'paused')
        throw podmanError(['unpause'], 125, `Error: "${c.id}" is not paused, can't unpause: container state improper`);
      c.state = 'running';
    });
  }

  attach(id: string, options: AttachOptions): Promise<number> {
    return this.call('attach', [id, options], () => {
      const c = this.container(id);
      if (c?.state !== 'running')
        throw podmanError(['attach'], 125, 'Error: you can only attach to running containers');
      return 0;
    });
  }

  lastOutputAt(id: string): Promise<Date | undefined> {
    return this.call('lastOutputAt', [id], () => this.container(id)?.lastOutput);
  }

  // pool
  renameContainer(id: string, newName: string): Promise<boolean> {
    return this.call('renameContainer', [id, newName], () => {
      const c = this.container(id);
      if (!c) return false;
      if (this.containers.some((x) => x !== c && x.name === newName)) {
        throw podmanError(
          ['rename'],
          125,
          `Error: error renaming container ${c.id}: the container name "${newName}" is already in use`,
        );
      }
      c.name = newName;
      return true;
    });
  }

  /** What `imageStoreIndexPath` returns (tests point it at a file of their own). */
  imageStoreIndex: string | undefined;

  imageStoreIndexPath(): Promise<string | undefined> {
    return this.call('imageStoreIndexPath', [], () => this.imageStoreIndex);
  }

  readContainerFile(id: string, path: string, maxBytes: number): Promise<Buffer | undefined> {
    return this.call('readContainerFile', [id, path, maxBytes], () => {
      const c = this.container(id);
      return c?.state === 'running' ? c.files?.[path] : undefined;
    });
  }

  execSession(
    id: string,
    command: string[],
    options: ExecOptions & { ownProcessGroup?: boolean; output?: ExecOutput },
  ): Promise<number> {
    return this.call('execSession', [id, command, options], () => {
      const c = this.container(id);
      if (c?.state !== 'running')
        throw podmanError(
          ['exec'],
          125,
          `Error: can only create exec sessions on running containers: container state improper`,
        );
      return 0;
    });
  }
}
