import { CommandHost, type Host } from '../../host/host.js';
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
  RemoteEndpoint,
  RuntimeInfo,
  SecretInfo,
  StreamedRun,
  StoreInventory,
  StoreLocation,
  VolumeInfo,
} from '../container-runtime.js';
import {
  validateDetachKeys,
  validateEnvKey,
  validateEnvValue,
  validateImageRef,
  validateMountPath,
  validateObjectName,
  validateUser,
} from '../validate.js';
import { buildContainerArgs, labelArgs, labelFilterArgs } from './podman-args.js';
import { PodmanCli } from './podman-cli.js';
import { firstFileOfTar } from './tar-first-file.js';
import { lastLines } from '../../common/text.js';
import { isNotFound, podmanError, volumeInUseError } from './podman-error.js';
import { EngineError } from '../runtime-errors.js';
import { InitExecFailureScanner, initExecFailure } from './init-exec-failure.js';
import {
  parseContainerList,
  parseDu,
  parseImageInspect,
  parseImageList,
  parseInfo,
  parseLines,
  parseSecretInspect,
  parseVolumeList,
} from './podman-json.js';

/** How to reach podman. */
export interface PodmanRuntimeOptions {
  /** The machine podman runs on (default: this one, as this user). */
  host?: Host;
  /** Work on this image store instead of the engine's default (global `--root/--runroot/--storage-driver`). */
  store?: StoreLocation;
  /** Display name (default `Podman`). */
  name?: string;
  /** Another machine's engine, through podman's remote client (see remote-podman-runtime.ts). */
  remote?: RemoteEndpoint;
  /** Runs once before the first podman process (a remote engine's connection). */
  prepare?: (cli: PodmanCli) => Promise<void>;
}

/** ContainerRuntime on the podman CLI, rootless or rootful, on this machine or behind a host prefix. */
export class PodmanRuntime implements ContainerRuntime {
  readonly name: string;
  readonly store: StoreLocation | undefined;
  /** The machine podman runs on, for its programs that are not the engine. */
  readonly host: Host;
  protected readonly podman: PodmanCli;
  private infoCache: Promise<RuntimeInfo> | undefined;

  constructor(options: PodmanRuntimeOptions = {}) {
    this.host = options.host ?? new CommandHost();
    this.store = options.store;
    this.name = options.name ?? 'Podman';
    this.podman = new PodmanCli(this.host, this.store, options.remote, options.prepare);
  }

  withStore(store: StoreLocation): ContainerRuntime {
    return new PodmanRuntime({ host: this.host, store, name: this.name });
  }

  async isAvailable(): Promise<boolean> {
    try {
      await this.version();
      return true;
    } catch {
      return false;
    }
  }

  async version(): Promise<string> {
    return (await this.podman.ok(['version', '--format', '{{.Client.Version}}'])).trim();
  }

  async ensureReady(): Promise<void> {
    await this.info();
  }

  info(options: { refresh?: boolean } = {}): Promise<RuntimeInfo> {
    if (options.refresh) this.infoCache = undefined;
    const info = this.infoCache ?? this.podman.ok(['info', '--format', 'json']).then(parseInfo);
    this.infoCache = info;
    info.catch(() => {
      if (this.infoCache === info) this.infoCache = undefined;
    });
    return info;
  }

  async storeInventory(): Promise<StoreInventory> {
    const [images, containers, volumes, secrets, networks] = await Promise.all([
      this.imageList(),
      // --external: build containers of buildah/podman build, which a reset removes too.
      this.podman.ok(['ps', '-a', '--external', '--format', 'json']).then(parseContainerList),
      this.volumeList(''),
      this.podman.ok(['secret', 'ls', '--format', '{{.Name}}']).then(parseLines),
      this.podman.ok(['network', 'ls', '--format', '{{.Name}}']).then(parseLines),
    ]);
    return { images, containers: containers.map((c) => c.name), volumes, secrets, networks };
  }

  async systemReset(): Promise<void> {
    await this.podman.ok(['system', 'reset', '-f']);
    this.infoCache = undefined;
  }

  async systemMigrate(): Promise<void> {
    await this.podman.ok(['system', 'migrate']);
    this.infoCache = undefined;
  }

  async unshare(argv: readonly string[]): Promise<RunOutput> {
    if (argv.length === 0) throw podmanError(['unshare'], 1, 'empty command');
    const { rootless } = await this.info();
    if (!rootless) return this.host.run(argv);
    return this.podman.capture(['unshare', ...argv]);
  }

  async run(spec: ContainerSpec): Promise<string> {
    const stdout = await this.podman.ok(buildContainerArgs('run-detached', spec));
    return stdout.trim();
  }

  async runAttached(spec: ContainerSpec, options: { ownProcessGroup?: boolean } = {}): Promise<number> {
    const detached = options.ownProcessGroup ?? false;
    // With a terminal the container's stderr is the terminal: nothing to watch.
    if (spec.tty) return this.podman.inherit(buildContainerArgs('run', spec), { detached });
    const scanner = new InitExecFailureScanner((chunk) => process.stderr.write(chunk));
    const exitCode = await this.podman.inherit(buildContainerArgs('run', spec), {
      detached,
      onStderr: (chunk) => scanner.push(chunk),
      onStderrEnd: () => scanner.end(),
    });
    scanner.end();
    if (exitCode !== 1 || scanner.reason === undefined) return exitCode;
    const failure = initExecFailure(spec.command[0] ?? '', scanner.reason);
    process.stderr.write(failure.message);
    return failure.exitCode;
  }

  async runCaptured(spec: ContainerSpec, options: { timeoutMs?: number } = {}): Promise<RunOutput> {
    const { stdout, stderr, exitCode } = await this.podman.capture(buildContainerArgs('run', spec), options);
    return { stdout, stderr, exitCode };
  }

  async runStreamed(spec: ContainerSpec, streams: StreamedRun): Promise<RunOutput> {
    const { stderr, exitCode } = await this.podman.stream(buildContainerArgs('run', spec), streams);
    return { stdout: '', stderr, exitCode };
  }

  async execStreamed(id: string, command: string[], streams: StreamedRun): Promise<RunOutput> {
    const args = execArgs(id, command, { interactive: streams.input !== undefined, tty: false });
    const { stderr, exitCode } = await this.podman.stream(args, streams);
    return { stdout: '', stderr, exitCode };
  }

  async stop(id: string, timeoutSeconds = 10): Promise<void> {
    await this.podman.ignoringMissing(['stop', '--ignore', '-t', String(timeoutSeconds), containerRef(id)]);
  }

  async kill(id: string, signal = 'KILL'): Promise<boolean> {
    if (!/^[A-Z0-9]+$/.test(signal)) throw podmanError(['kill'], 1, `invalid signal ${signal}`);
    const result = await this.podman.capture(['kill', '-s', signal, containerRef(id)]);
    if (result.exitCode === 0) return true;
    // Killing a container that is gone or already stopped is what the caller wanted anyway.
    if (isNotFound(result.stderr) || /not running|is not running|stopped/i.test(result.stderr)) return false;
    throw podmanError(['kill'], result.exitCode, result.stderr);
  }

  async remove(id: string): Promise<void> {
    const args = ['rm', '-f', '-i', containerRef(id)];
    try {
      await this.podman.ignoringMissing(args);
    } catch (err) {
      // Unmounting the root filesystem of a container that just exited can fail with EBUSY on a
      // busy host ("removing container … root filesystem"); a second attempt a moment later works.
      if (!(err instanceof EngineError) || !/root filesystem|device or resource busy/i.test(err.stderr)) throw err;
      await new Promise((r) => setTimeout(r, 500));
      await this.podman.ignoringMissing(args);
    }
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return parseContainerList(await this.podman.ok(['ps', '-a', '--format', 'json', ...labelFilterArgs(labels)]));
  }

  async containerExitCode(id: string): Promise<number | undefined> {
    const result = await this.podman.capture(['wait', containerRef(id)]);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw podmanError(['wait'], result.exitCode, result.stderr);
    }
    const code = Number.parseInt(result.stdout.trim(), 10);
    return Number.isNaN(code) ? undefined : code;
  }

  async logs(id: string, lines: number): Promise<CapturedLogs> {
    const args = ['logs', ...(lines > 0 ? ['--tail', String(lines)] : []), containerRef(id)];
    const result = await this.podman.capture(args);
    if (result.exitCode !== 0) throw podmanError(args, result.exitCode, result.stderr);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  async logsFollow(id: string): Promise<void> {
    const code = await this.podman.inherit(['logs', '-f', containerRef(id)]);
    if (code !== 0 && code < 128) throw podmanError(['logs', '-f'], code, '');
  }

  exec(id: string, command: string[], options: ExecOptions): Promise<number> {
    return this.podman.inherit(execArgs(id, command, options));
  }

  async renameContainer(id: string, newName: string): Promise<boolean> {
    const args = ['rename', containerRef(id), validateObjectName('container', newName)];
    const result = await this.podman.capture(args);
    if (result.exitCode === 0) return true;
    if (isNotFound(result.stderr)) return false;
    throw podmanError(args, result.exitCode, result.stderr);
  }

  execSession(
    id: string,
    command: string[],
    options: ExecOptions & { ownProcessGroup?: boolean; output?: ExecOutput },
  ): Promise<number> {
    return this.podman.inherit(execArgs(id, command, options), {
      detached: options.ownProcessGroup ?? false,
      ...(options.output ? { onStdout: options.output.stdout, onStderr: options.output.stderr } : {}),
    });
  }

  async readContainerFile(id: string, path: string, maxBytes: number): Promise<Buffer | undefined> {
    const args = ['cp', `${containerRef(id)}:${validateMountPath('source', path)}`, '-'];
    const chunks: Buffer[] = [];
    let size = 0;
    const { exitCode, stderr } = await this.podman.stream(args, {
      onStdout: (chunk) => {
        size += chunk.length;
        if (size <= maxBytes + 64 * 1024) chunks.push(chunk);
      },
    });
    if (exitCode !== 0) {
      if (isNotFound(stderr) || /no such file|no items|could not find/i.test(stderr)) return undefined;
      throw podmanError(['cp'], exitCode, stderr);
    }
    if (size > maxBytes + 64 * 1024) throw podmanError(['cp'], 1, `${path} is larger than ${maxBytes} bytes`);
    const file = firstFileOfTar(Buffer.concat(chunks));
    if (file && file.length > maxBytes) throw podmanError(['cp'], 1, `${path} is larger than ${maxBytes} bytes`);
    return file;
  }

  async imageStoreIndexPath(): Promise<string | undefined> {
    const { graphRoot, storageDriver } = this.store
      ? { graphRoot: this.store.graphRoot, storageDriver: this.store.driver }
      : await this.info();
    if (!graphRoot.startsWith('/') || !/^[a-z0-9_]+$/.test(storageDriver)) return undefined;
    return `${graphRoot.replace(/\/+$/, '')}/${storageDriver}-images/images.json`;
  }

  async imageExists(image: string): Promise<boolean> {
    const args = ['image', 'exists', validateImageRef(image)];
    const result = await this.podman.capture(args);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1) return false;
    throw podmanError(args, result.exitCode, result.stderr);
  }

  async imageInspect(image: string): Promise<ImageFacts | undefined> {
    const args = ['image', 'inspect', '--format', 'json', validateImageRef(image)];
    const result = await this.podman.capture(args);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw podmanError(args, result.exitCode, result.stderr);
    }
    return parseImageInspect(result.stdout);
  }

  async imageList(): Promise<LocalImage[]> {
    const args = ['images', '--format', 'json'];
    // podman 4 fails the whole listing when an image or layer goes away while it lists
    // ("image not known", "layer not known"): another process removed it; list again.
    for (let attempt = 1; ; attempt++) {
      const result = await this.podman.capture(args);
      if (result.exitCode === 0) return parseImageList(result.stdout);
      if (!/not known/i.test(result.stderr) || attempt >= 3) throw podmanError(args, result.exitCode, result.stderr);
    }
  }

  async imageTag(source: string, target: string): Promise<void> {
    await this.podman.ok(['tag', validateImageRef(source), validateImageRef(target)]);
  }

  async imagePull(image: string, options: { timeoutMs: number }): Promise<void> {
    const args = ['pull', '-q', validateImageRef(image)];
    const result = await this.podman.captureWithin(args, options.timeoutMs);
    if (result.exitCode === 0) return;
    throw podmanError(
      args,
      result.exitCode,
      result.timedOut ? `no answer within ${Math.ceil(options.timeoutMs / 1000)} s` : result.stderr,
    );
  }

  async buildImage(contextDir: string, tag: string, options: BuildOptions = {}): Promise<void> {
    // --force-rm: a failed step's working container goes too (it would keep its base image in use).
    const args = ['build', '--force-rm', '-t', validateImageRef(tag)];
    if (options.file !== undefined) args.push('-f', options.file);
    args.push(...labelArgs(options.labels ?? {}));
    for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
      args.push('--build-arg', `${validateEnvKey(key)}=${validateEnvValue(key, value)}`);
    }
    args.push(validateMountPath('source', contextDir));
    const tail: string[] = [];
    const proc = this.podman.streaming(
      args,
      (line) => {
        tail.push(line);
        if (tail.length > 50) tail.shift();
        options.onOutput?.(line);
      },
      // One stream: a failing step's error (stderr) must not fall out of the last 50 lines
      // because its pipe was read before the step's output.
      { signal: options.signal, mergeStderr: true },
    );
    const result = await proc.done;
    if (result.exitCode !== 0) {
      const output = tail.join('\n');
      throw podmanError(
        ['build', '-t'],
        result.exitCode,
        output,
        /subuid|subgid|insufficient uids|newuidmap/i.test(output)
          ? 'Rootless Podman is not configured. Run: mino setup'
          : undefined,
      );
    }
  }

  async copyImageFromDefaultStore(image: string): Promise<void> {
    const ref = validateImageRef(image);
    if (!this.store) throw podmanError(['load'], 1, 'this runtime is on the default store: nothing to copy from');
    // `podman save` writes the archive to its stdout (a pipe, never a terminal); `podman load`
    // reads it from its stdin. Both run on the podman host: it works the same in a VM.
    const save = new PodmanCli(this.host, undefined).hostArgv(['save', '--format', 'docker-archive', ref]);
    const args = ['load'];
    const { source, target } = await this.podman.pipeFrom(save, args);
    if (source.exitCode !== 0) throw podmanError(['save', ref], source.exitCode, source.stderr);
    if (target.exitCode !== 0) throw podmanError(args, target.exitCode, target.stderr);
  }

  async importImage(rootDir: string, tag: string, options: ImportOptions = {}): Promise<void> {
    validateMountPath('source', rootDir);
    const paths = options.paths ?? ['.'];
    const exclude = options.exclude ?? [];
    for (const p of [...paths, ...exclude]) {
      if (p === '' || p.startsWith('-') || p.includes('\0')) throw podmanError(['import'], 1, `invalid path ${p}`);
    }
    const tar = [
      'tar',
      '-C',
      rootDir,
      '-c',
      ...(options.numericOwner ? ['--numeric-owner'] : []),
      ...exclude.map((e) => `--exclude=${e}`),
      ...(options.dereference ? ['-h'] : []),
      '-f',
      '-',
      '--',
      ...paths,
    ];
    // tar runs on the podman host (inside the user namespace when asked) and streams into
    // `podman import -`, so it works the same for a local engine and for a VM.
    const source =
      options.inUserNamespace && (await this.info()).rootless ? this.podman.hostArgv(['unshare', ...tar]) : tar;
    const changes = (options.changes ?? []).flatMap((c) => ['--change', c]);
    const args = ['import', '-q', ...changes, '-', validateImageRef(tag)];
    const { source: tarResult, target } = await this.podman.pipeFrom(source, args);
    if (target.exitCode !== 0) throw podmanError(args, target.exitCode, target.stderr);
    if (tarResult.exitCode !== 0) throw podmanError(args, tarResult.exitCode, `tar: ${lastLines(tarResult.stderr, 5)}`);
  }

  async imageRemove(image: string): Promise<void> {
    await this.podman.ignoringMissing(['rmi', '-i', validateImageRef(image)]);
  }

  async volumeCreate(name: string, labels: Record<string, string>): Promise<void> {
    const args = ['volume', 'create', ...labelArgs(labels), validateObjectName('volume', name)];
    const result = await this.podman.capture(args);
    if (result.exitCode !== 0 && !/already exists/i.test(result.stderr)) {
      throw podmanError(args, result.exitCode, result.stderr);
    }
  }

  async volumeRemove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const args = ['volume', 'rm', ...((options.force ?? true) ? ['-f'] : []), validateObjectName('volume', name)];
    const result = await this.podman.capture(args);
    if (result.exitCode === 0 || isNotFound(result.stderr)) return;
    if (/volume is being used/i.test(result.stderr)) throw volumeInUseError(name, result.exitCode, result.stderr);
    throw podmanError(args, result.exitCode, result.stderr);
  }

  async volumeList(prefix: string): Promise<VolumeInfo[]> {
    const volumes = parseVolumeList(await this.podman.ok(['volume', 'ls', '--format', 'json']));
    return volumes.filter((v) => v.name.startsWith(prefix));
  }

  async volumeInspect(name: string): Promise<VolumeInfo | undefined> {
    const args = ['volume', 'inspect', '--format', 'json', validateObjectName('volume', name)];
    const result = await this.podman.capture(args);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw podmanError(args, result.exitCode, result.stderr);
    }
    return parseVolumeList(result.stdout)[0];
  }

  async volumeDiskUsage(prefix: string, listed?: readonly VolumeInfo[]): Promise<Map<string, number>> {
    const volumes = (listed ?? (await this.volumeList(prefix))).filter(
      (v) => v.name.startsWith(prefix) && v.mountpoint,
    );
    const usage = new Map<string, number>();
    if (volumes.length === 0) return usage;
    const mountpoints = volumes.map((v) => v.mountpoint as string);
    // Rootless volumes hold files owned by sub-uids: measure inside the user namespace.
    let result = await this.unshare(['du', '-s', '-b', '--', ...mountpoints]);
    let unit = 1;
    if (result.stdout.trim() === '') {
      // BusyBox and BSD du have no -b.
      result = await this.unshare(['du', '-s', '-k', '--', ...mountpoints]);
      unit = 1024;
    }
    const sizes = parseDu(result.stdout, unit);
    for (const v of volumes) usage.set(v.name, sizes.get(v.mountpoint as string) ?? 0);
    return usage;
  }

  async secretCreate(
    name: string,
    value: string,
    labels: Record<string, string> = {},
    options: { keep?: boolean } = {},
  ): Promise<void> {
    validateObjectName('secret', name);
    if (!options.keep) await this.secretRemove(name);
    // The value travels on stdin, never on a command line (where `ps` would show it) or in a file.
    const args = ['secret', 'create', ...labelArgs(labels), name, '-'];
    const result = await this.podman.withPipedInput(args, value);
    // Kept: one made meanwhile (another run's) holds the same content.
    if (result.exitCode !== 0 && options.keep && /secret name in use/.test(result.stderr)) return;
    if (result.exitCode !== 0) throw podmanError(args, result.exitCode, result.stderr);
  }

  async networkCreateInternal(name: string, labels: Record<string, string>): Promise<{ subnet: string }> {
    validateObjectName('network', name);
    await this.podman.ok(['network', 'create', '--internal', '--disable-dns', ...labelArgs(labels), name]);
    const inspect = JSON.parse(await this.podman.ok(['network', 'inspect', name])) as {
      subnets?: { subnet?: string }[];
    }[];
    const subnet = inspect[0]?.subnets?.map((s) => s.subnet).find((s) => s?.includes('.'));
    if (subnet === undefined) {
      await this.networkRemove(name);
      throw new EngineError(`network ${name} got no IPv4 subnet`, { engineExitCode: 0, stderr: '' });
    }
    return { subnet };
  }

  async networkRemove(name: string): Promise<void> {
    await this.podman.ignoringMissing(['network', 'rm', '-f', validateObjectName('network', name)]);
  }

  async secretRemove(name: string): Promise<void> {
    await this.podman.ignoringMissing(['secret', 'rm', validateObjectName('secret', name)]);
  }

  async secretList(labels: Record<string, string>): Promise<SecretInfo[]> {
    labelFilterArgs(labels); // validates
    // podman 4.3 has neither `secret ls --format json` nor a label filter: list the IDs, inspect
    // them in one call, filter here. A secret removed in between makes inspect fail: list again.
    for (let attempt = 1; ; attempt++) {
      const ids = parseLines(await this.podman.ok(['secret', 'ls', '--format', '{{.ID}}']));
      if (ids.length === 0) return [];
      const args = ['secret', 'inspect', ...ids.map((id) => validateObjectName('secret', id))];
      const result = await this.podman.capture(args);
      if (result.exitCode === 0) {
        return parseSecretInspect(result.stdout).filter((s) =>
          Object.entries(labels).every(([k, v]) => k in s.labels && (v === '' || s.labels[k] === v)),
        );
      }
      if (!isNotFound(result.stderr) || attempt >= 3) throw podmanError(args, result.exitCode, result.stderr);
    }
  }

  // lifecycle
  async pause(id: string): Promise<void> {
    await this.podman.ok(['pause', containerRef(id)]);
  }

  async unpause(id: string): Promise<void> {
    await this.podman.ok(['unpause', containerRef(id)]);
  }

  attach(id: string, options: AttachOptions): Promise<number> {
    const args = [
      'attach',
      '--sig-proxy=false',
      `--detach-keys=${validateDetachKeys(options.detachKeys)}`,
      containerRef(id),
    ];
    return this.podman.inherit(args, { signal: options.signal });
  }

  async lastOutputAt(id: string): Promise<Date | undefined> {
    const args = ['logs', '--tail', '1', '--timestamps', containerRef(id)];
    const result = await this.podman.capture(args);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw podmanError(args, result.exitCode, result.stderr);
    }
    return parseLogTimestamp(`${result.stdout}\n${result.stderr}`);
  }
}

/** `podman exec` arguments (without `podman`). */
function execArgs(id: string, command: string[], options: ExecOptions): string[] {
  const args = ['exec'];
  if (options.interactive ?? true) args.push('-i');
  if (options.tty) args.push('-t');
  if (options.workdir !== undefined) args.push('-w', validateMountPath('target', options.workdir));
  if (options.user !== undefined) args.push('-u', validateUser(options.user));
  for (const [key, value] of Object.entries(options.env ?? {})) {
    args.push('-e', `${validateEnvKey(key)}=${validateEnvValue(key, value)}`);
  }
  args.push(containerRef(id), ...command);
  return args;
}

/** A container ID or name, validated so it can never be read as an option. */
function containerRef(id: string): string {
  return validateObjectName('container', id);
}

/**
 * The newest timestamp of `podman logs --timestamps` output (RFC 3339 with nanoseconds at the
 * start of each entry; stdout and stderr come back separately); undefined when there is none.
 */
export function parseLogTimestamp(text: string): Date | undefined {
  let newest: number | undefined;
  for (const m of text.matchAll(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}) /gm)) {
    const t = Date.parse(`${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}${m[3]}`);
    if (!Number.isNaN(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest === undefined ? undefined : new Date(newest);
}
