import { spawn } from 'node:child_process';
import { execCapture, execInherit, execStreaming, type ExecResult } from '../../common/exec.js';
import { log } from '../../common/logger.js';
import { redactArgs } from '../../common/redact.js';
import type {
  BuildOptions, CapturedLogs, ContainerRuntime, ImportOptions, ContainerSpec, ContainerSummary, ExecOptions, RuntimeCapabilities, RuntimeInfo, VolumeInfo,
} from '../container-runtime.js';
import {
  validateEnvKey, validateEnvValue, validateImageRef, validateMountPath, validateObjectName, validateUser,
} from '../validate.js';
import { buildContainerArgs, labelArgs, labelFilterArgs } from './podman-args.js';
import { PodmanError, VolumeInUseError, isNotFound, lastLines } from './podman-error.js';
import { parseContainerList, parseDu, parseImageNames, parseInfo, parseVolumeList } from './podman-json.js';

/** How to reach podman. */
export interface PodmanRuntimeOptions {
  /**
   * Argument prefix that runs a program on the machine where podman lives: `[]` for this host,
   * `['orb', '-m', 'mino']` for an OrbStack VM. Podman itself is `[...hostPrefix, 'podman']`.
   */
  hostPrefix?: string[];
  /** Environment for every podman process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Display name (default `Podman`). */
  name?: string;
}

/** ContainerRuntime on the podman CLI, rootless or rootful, local or behind a host prefix. */
export class PodmanRuntime implements ContainerRuntime {
  readonly name: string;
  protected readonly hostPrefix: readonly string[];
  protected readonly env: NodeJS.ProcessEnv | undefined;
  private infoCache: Promise<RuntimeInfo> | undefined;

  constructor(options: PodmanRuntimeOptions = {}) {
    this.hostPrefix = options.hostPrefix ?? [];
    this.env = options.env;
    this.name = options.name ?? 'Podman';
  }

  /** The argv that runs podman with `args`. */
  podmanArgv(args: readonly string[]): string[] {
    return [...this.hostPrefix, 'podman', ...args];
  }

  /** Runs podman and captures its output; never throws for a non-zero exit. */
  protected async podman(args: readonly string[], input?: string): Promise<ExecResult> {
    log.debug('podman', { args: redactArgs(args) });
    const result = await execCapture(this.podmanArgv(args), { env: this.env, input });
    log.trace('podman done', { exitCode: result.exitCode, stderr: result.stderr.slice(0, 2000) });
    return result;
  }

  /** Runs podman and returns stdout, throwing a PodmanError (with a hint) on failure. */
  protected async podmanOk(args: readonly string[], input?: string): Promise<string> {
    const result = await this.podman(args, input);
    if (result.exitCode !== 0) throw new PodmanError(args, result.exitCode, result.stderr);
    return result.stdout;
  }

  /** Like podmanOk, but a "no such object" failure is not an error. */
  protected async podmanIgnoringMissing(args: readonly string[]): Promise<void> {
    const result = await this.podman(args);
    if (result.exitCode !== 0 && !isNotFound(result.stderr)) {
      throw new PodmanError(args, result.exitCode, result.stderr);
    }
  }

  /** Runs any program on the podman host (this machine, or the VM), capturing output. */
  hostExec(argv: readonly string[], input?: string): Promise<ExecResult> {
    log.debug('host exec', { argv: redactArgs(argv) });
    return execCapture([...this.hostPrefix, ...argv], { env: this.env, input });
  }

  /** Runs podman attached to this process's stdio; returns its exit code. */
  protected podmanInherit(args: readonly string[]): Promise<number> {
    log.debug('podman (attached)', { args: redactArgs(args) });
    return execInherit(this.podmanArgv(args), { env: this.env });
  }

  async isAvailable(): Promise<boolean> {
    try {
      const result = await this.podman(['version', '--format', '{{.Client.Version}}']);
      return result.exitCode === 0;
    } catch {
      return false;
    }
  }

  async ensureReady(): Promise<void> {
    await this.info();
  }

  info(): Promise<RuntimeInfo> {
    this.infoCache ??= this.podmanOk(['info', '--format', 'json']).then(parseInfo);
    this.infoCache.catch(() => {
      this.infoCache = undefined;
    });
    return this.infoCache;
  }

  async capabilities(): Promise<RuntimeCapabilities> {
    const { version } = await this.info();
    return { envSecretsHiddenFromInspect: versionAtLeast(version, 5, 3) };
  }

  async run(spec: ContainerSpec): Promise<string> {
    const stdout = await this.podmanOk(buildContainerArgs('run-detached', spec));
    return stdout.trim();
  }

  runAttached(spec: ContainerSpec): Promise<number> {
    return this.podmanInherit(buildContainerArgs('run', spec));
  }

  async create(spec: ContainerSpec): Promise<string> {
    const stdout = await this.podmanOk(buildContainerArgs('create', spec));
    return stdout.trim();
  }

  startAttached(id: string): Promise<number> {
    return this.podmanInherit(['start', '--attach', containerRef(id)]);
  }

  async startDetached(id: string): Promise<void> {
    await this.podmanOk(['start', containerRef(id)]);
  }

  async stop(id: string, timeoutSeconds = 10): Promise<void> {
    await this.podmanIgnoringMissing(['stop', '--ignore', '-t', String(timeoutSeconds), containerRef(id)]);
  }

  async kill(id: string, signal = 'KILL'): Promise<void> {
    if (!/^[A-Z0-9]+$/.test(signal)) throw new PodmanError(['kill'], 1, `invalid signal ${signal}`);
    const result = await this.podman(['kill', '-s', signal, containerRef(id)]);
    // Killing a container that is gone or already stopped is what the caller wanted anyway.
    if (result.exitCode !== 0 && !isNotFound(result.stderr) && !/not running|is not running|stopped/i.test(result.stderr)) {
      throw new PodmanError(['kill'], result.exitCode, result.stderr);
    }
  }

  async remove(id: string): Promise<void> {
    await this.podmanIgnoringMissing(['rm', '-f', '-i', containerRef(id)]);
  }

  async containerPrune(labels: Record<string, string>): Promise<string[]> {
    if (Object.keys(labels).length === 0) {
      // Pruning without a label filter would remove every stopped container on the host.
      throw new PodmanError(['container', 'prune'], 1, 'refusing to prune containers without a label filter');
    }
    const stdout = await this.podmanOk(['container', 'prune', '-f', ...labelFilterArgs(labels)]);
    return stdout.split('\n').map((l) => l.trim()).filter((l) => /^[a-f0-9]{12,64}$/.test(l));
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const stdout = await this.podmanOk(['ps', '-a', '--format', 'json', ...labelFilterArgs(labels)]);
    return parseContainerList(stdout);
  }

  async containerExitCode(id: string): Promise<number | undefined> {
    const result = await this.podman(['wait', containerRef(id)]);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw new PodmanError(['wait'], result.exitCode, result.stderr);
    }
    const code = Number.parseInt(result.stdout.trim(), 10);
    return Number.isNaN(code) ? undefined : code;
  }

  async logs(id: string, lines: number): Promise<CapturedLogs> {
    const args = ['logs', ...(lines > 0 ? ['--tail', String(lines)] : []), containerRef(id)];
    const result = await this.podman(args);
    if (result.exitCode !== 0) throw new PodmanError(args, result.exitCode, result.stderr);
    return { stdout: result.stdout, stderr: result.stderr };
  }

  async logsFollow(id: string): Promise<void> {
    const code = await this.podmanInherit(['logs', '-f', containerRef(id)]);
    if (code !== 0 && code < 128) throw new PodmanError(['logs', '-f'], code, '');
  }

  logsFollowUntil(id: string, marker: string, timeoutMs: number, onLine?: (line: string) => void): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let settled = false;
      const finish = (found: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        proc.kill('SIGTERM');
        resolve(found);
      };
      const proc = execStreaming(this.podmanArgv(['logs', '-f', containerRef(id)]), (line) => {
        onLine?.(line);
        if (line.includes(marker)) finish(true);
      }, { env: this.env });
      const timer = setTimeout(() => finish(false), timeoutMs);
      proc.done.then(() => finish(false), (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  exec(id: string, command: string[], options: ExecOptions): Promise<number> {
    const args = ['exec'];
    if (options.interactive ?? true) args.push('-i');
    if (options.tty) args.push('-t');
    if (options.workdir !== undefined) args.push('-w', validateMountPath('target', options.workdir));
    if (options.user !== undefined) args.push('-u', validateUser(options.user));
    for (const [key, value] of Object.entries(options.env ?? {})) {
      args.push('-e', `${validateEnvKey(key)}=${validateEnvValue(key, value)}`);
    }
    args.push(containerRef(id), ...command);
    return this.podmanInherit(args);
  }

  async imageExists(image: string): Promise<boolean> {
    const args = ['image', 'exists', validateImageRef(image)];
    const result = await this.podman(args);
    if (result.exitCode === 0) return true;
    if (result.exitCode === 1) return false;
    throw new PodmanError(args, result.exitCode, result.stderr);
  }

  async buildImage(contextDir: string, tag: string, options: BuildOptions = {}): Promise<void> {
    const args = ['build', '-t', validateImageRef(tag)];
    if (options.file !== undefined) args.push('-f', options.file);
    args.push(...labelArgs(options.labels ?? {}));
    for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
      args.push('--build-arg', `${validateEnvKey(key)}=${validateEnvValue(key, value)}`);
    }
    args.push(validateMountPath('source', contextDir));
    log.debug('podman build', { args });
    const tail: string[] = [];
    const proc = execStreaming(this.podmanArgv(args), (line) => {
      tail.push(line);
      if (tail.length > 50) tail.shift();
      options.onOutput?.(line);
    }, { env: this.env, signal: options.signal });
    const result = await proc.done;
    if (result.exitCode !== 0) {
      const output = tail.join('\n');
      throw new PodmanError(['build', '-t'], result.exitCode, output,
        /subuid|subgid|insufficient uids|newuidmap/i.test(output)
          ? 'Rootless Podman is not configured. Run: mino setup'
          : undefined);
    }
  }

  async importImage(rootDir: string, tag: string, options: ImportOptions = {}): Promise<void> {
    validateMountPath('source', rootDir);
    const paths = options.paths ?? ['.'];
    for (const p of paths) {
      if (p.startsWith('-') || p.includes('\0')) throw new PodmanError(['import'], 1, `invalid path ${p}`);
    }
    const changes = (options.changes ?? []).flatMap((c) => ['--change', c]);
    // tar runs on the podman host and streams into `podman import -`, so it works the same
    // for a local engine and for a VM behind a host prefix.
    const tarArgv = [...this.hostPrefix, 'tar', '-C', rootDir, '-c', ...(options.dereference ? ['-h'] : []), '-f', '-', '--', ...paths];
    const importArgv = this.podmanArgv(['import', '-q', ...changes, '-', validateImageRef(tag)]);
    await new Promise<void>((resolve, reject) => {
      const tar = spawn(tarArgv[0]!, tarArgv.slice(1), { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const imp = spawn(importArgv[0]!, importArgv.slice(1), { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let tarErr = '';
      let impErr = '';
      tar.stderr.on('data', (b: Buffer) => (tarErr += b.toString()));
      imp.stderr.on('data', (b: Buffer) => (impErr += b.toString()));
      imp.stdout.resume();
      tar.stdout.pipe(imp.stdin);
      imp.stdin.on('error', () => undefined);
      let tarCode: number | null = null;
      tar.on('error', reject);
      imp.on('error', reject);
      tar.on('close', (code) => (tarCode = code));
      imp.on('close', (code) => {
        if (code === 0 && (tarCode ?? 0) === 0) resolve();
        else if (code !== 0) reject(new PodmanError(['import'], code ?? 1, impErr));
        else reject(new PodmanError(['import'], tarCode ?? 1, `tar: ${lastLines(tarErr, 5)}`));
      });
    });
  }

  async imageRemove(image: string): Promise<void> {
    await this.podmanIgnoringMissing(['rmi', '-i', validateImageRef(image)]);
  }

  async imageListPrefixed(prefix: string): Promise<string[]> {
    const names = parseImageNames(await this.podmanOk(['images', '--format', 'json']));
    const matches = names.filter((n) => n.startsWith(prefix) || n.startsWith(`localhost/${prefix}`));
    return [...new Set(matches)].sort();
  }

  async volumeCreate(name: string, labels: Record<string, string>): Promise<void> {
    const args = ['volume', 'create', ...labelArgs(labels), validateObjectName('volume', name)];
    const result = await this.podman(args);
    if (result.exitCode !== 0 && !/already exists/i.test(result.stderr)) {
      throw new PodmanError(args, result.exitCode, result.stderr);
    }
  }

  async volumeRemove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const args = ['volume', 'rm', ...(options.force ?? true ? ['-f'] : []), validateObjectName('volume', name)];
    const result = await this.podman(args);
    if (result.exitCode === 0 || isNotFound(result.stderr)) return;
    if (/volume is being used/i.test(result.stderr)) throw new VolumeInUseError(name, result.stderr);
    throw new PodmanError(args, result.exitCode, result.stderr);
  }

  async volumeList(prefix: string): Promise<VolumeInfo[]> {
    const volumes = parseVolumeList(await this.podmanOk(['volume', 'ls', '--format', 'json']));
    return volumes.filter((v) => v.name.startsWith(prefix));
  }

  async volumeInspect(name: string): Promise<VolumeInfo | undefined> {
    const args = ['volume', 'inspect', '--format', 'json', validateObjectName('volume', name)];
    const result = await this.podman(args);
    if (result.exitCode !== 0) {
      if (isNotFound(result.stderr)) return undefined;
      throw new PodmanError(args, result.exitCode, result.stderr);
    }
    return parseVolumeList(result.stdout)[0];
  }

  async volumeDiskUsage(prefix: string, listed?: readonly VolumeInfo[]): Promise<Map<string, number>> {
    const volumes = (listed ?? await this.volumeList(prefix)).filter((v) => v.name.startsWith(prefix) && v.mountpoint);
    const usage = new Map<string, number>();
    if (volumes.length === 0) return usage;
    const mountpoints = volumes.map((v) => v.mountpoint as string);
    // Rootless volumes hold files owned by sub-uids: measure inside the user namespace.
    const { rootless } = await this.info();
    const du = rootless ? ['podman', 'unshare', 'du'] : ['du'];
    let result = await this.hostExec([...du, '-s', '-b', '--', ...mountpoints]);
    let unit = 1;
    if (result.stdout.trim() === '') {
      // BusyBox and BSD du have no -b.
      result = await this.hostExec([...du, '-s', '-k', '--', ...mountpoints]);
      unit = 1024;
    }
    const sizes = parseDu(result.stdout, unit);
    for (const v of volumes) usage.set(v.name, sizes.get(v.mountpoint as string) ?? 0);
    return usage;
  }

  async secretCreate(name: string, value: string, labels: Record<string, string> = {}): Promise<void> {
    validateObjectName('secret', name);
    await this.secretRemove(name);
    // The value travels on stdin, never on a command line (where `ps` would show it) or in a
    // file. podman insists that stdin be a pipe (not the socket Node gives a child), so a fixed
    // `sh` pipeline turns it into one; the name and labels are positional arguments, not code.
    const script = 'cat | exec podman secret create "$@" -';
    const args = ['secret', 'create', ...labelArgs(labels), name, '-'];
    const result = await this.hostExec(['sh', '-c', script, 'sh', ...labelArgs(labels), name], value);
    if (result.exitCode !== 0) throw new PodmanError(args, result.exitCode, result.stderr);
  }

  async secretRemove(name: string): Promise<void> {
    await this.podmanIgnoringMissing(['secret', 'rm', validateObjectName('secret', name)]);
  }
}

/** True when a `major.minor.patch` version is at least major.minor. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

/** A container ID or name, validated so it can never be read as an option. */
function containerRef(id: string): string {
  return validateObjectName('container', id);
}
