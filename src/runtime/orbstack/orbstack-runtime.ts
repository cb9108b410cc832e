import { execCapture, type ExecResult } from '../../common/exec.js';
import { MinoError } from '../../common/errors.js';
import { log } from '../../common/logger.js';
import { printable } from '../../common/printable.js';
import { CommandHost, type Host } from '../../host/host.js';
import { detectPackageManager, installCommands, packageNamesFor } from '../../host/package-manager.js';
import type { ContainerRuntime, StoreLocation } from '../container-runtime.js';
import { PodmanRuntime } from '../podman/podman-runtime.js';
import { EngineUnreachableError } from '../runtime-errors.js';

/** Which OrbStack machine runs podman. */
export interface OrbStackOptions {
  /** Machine name (default `mino`). */
  vmName: string;
  /** Distribution used when the machine has to be created (default `fedora`). */
  vmDistro: string;
  /** The orb executable (default `orb`, found on PATH). */
  orbBinary?: string;
  env?: NodeJS.ProcessEnv;
  /** Work on this image store instead of the machine's default one. */
  store?: StoreLocation;
}

const MACHINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const DISTRO = /^[a-z0-9][a-z0-9._-]*(?::[A-Za-z0-9._-]+)?$/;
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** Sub-id range given to the VM user when it has none. */
const SUBID_RANGE = '100000:65536';

function validated(options: OrbStackOptions): OrbStackOptions {
  if (!MACHINE_NAME.test(options.vmName)) {
    throw new MinoError(`Invalid OrbStack machine name '${printable(options.vmName)}'`, {
      hint: 'Use letters, digits, ".", "_" and "-" (config key vm.name)',
    });
  }
  if (!DISTRO.test(options.vmDistro)) {
    throw new MinoError(`Invalid OrbStack distribution '${printable(options.vmDistro)}'`, {
      hint: 'Use a distribution name such as fedora, ubuntu or debian:bookworm (config key vm.distro)',
    });
  }
  return options;
}

/** The OrbStack machine as a Host: `orb -m <vm> <program>` (as `user` when given). */
export function orbMachineHost(options: OrbStackOptions, user?: 'root'): Host {
  const orb = options.orbBinary ?? 'orb';
  return new CommandHost({
    prefix: [orb, '-m', options.vmName, ...(user ? ['-u', user] : [])],
    env: options.env,
    name: `OrbStack machine ${options.vmName}`,
  });
}

/**
 * ContainerRuntime for macOS: podman inside an OrbStack Linux machine, reached as
 * `orb -m <vm> podman …`. Paths are passed unchanged (OrbStack shares macOS paths with its machines).
 */
export class OrbStackRuntime extends PodmanRuntime {
  readonly vmName: string;
  readonly vmDistro: string;
  private readonly options: OrbStackOptions;
  private readonly orb: string;
  /** The machine as root (package installs, /etc/subuid). */
  private readonly rootHost: Host;

  constructor(options: OrbStackOptions) {
    validated(options);
    super({ host: orbMachineHost(options), store: options.store, name: `OrbStack (${options.vmName})` });
    this.options = options;
    this.orb = options.orbBinary ?? 'orb';
    this.vmName = options.vmName;
    this.vmDistro = options.vmDistro;
    this.rootHost = orbMachineHost(options, 'root');
  }

  override withStore(store: StoreLocation): ContainerRuntime {
    return new OrbStackRuntime({ ...this.options, store });
  }

  /** The image store lives in the machine, not on this Mac: unknown here. */
  override imageStoreIndexPath(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  /** Runs `orb <args>` (not inside the machine). */
  private orbCli(args: readonly string[]): Promise<ExecResult> {
    log.debug('orb', { args });
    return execCapture([this.orb, ...args], { env: this.options.env });
  }

  private async orbOk(args: readonly string[], what: string): Promise<ExecResult> {
    const result = await this.orbCli(args);
    if (result.exitCode !== 0) {
      throw new EngineUnreachableError(`${what} failed: ${result.stderr.trim() || `exit code ${result.exitCode}`}`, {
        engineExitCode: result.exitCode,
        stderr: result.stderr,
        hint: 'Check OrbStack with: orb status',
      });
    }
    return result;
  }

  /** True when OrbStack itself reports that it is running. */
  async orbRunning(): Promise<boolean> {
    const result = await this.orbCli(['status']);
    // `orb status` prints "Running" or "Stopped"; an exit code of 0 alone does not mean running.
    return result.exitCode === 0 && /^running$/im.test(result.stdout.trim());
  }

  /** Names of the machines, and of those running. */
  async machines(): Promise<{ all: string[]; running: string[] }> {
    const lines = (r: ExecResult): string[] =>
      r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const all = lines(await this.orbOk(['list', '-q'], 'Listing OrbStack machines'));
    const running = lines(await this.orbOk(['list', '-r', '-q'], 'Listing running OrbStack machines'));
    return { all, running };
  }

  override async isAvailable(): Promise<boolean> {
    try {
      if ((await this.orbCli(['version'])).exitCode !== 0) return false;
      if (!(await this.orbRunning())) return false;
      const { running } = await this.machines();
      if (!running.includes(this.vmName)) return false;
      return await super.isAvailable();
    } catch {
      return false;
    }
  }

  override async ensureReady(): Promise<void> {
    const version = await this.orbCli(['version']).catch((err: unknown) => {
      throw new EngineUnreachableError('OrbStack is not installed', {
        engineExitCode: 127,
        stderr: '',
        hint: 'Install OrbStack from https://orbstack.dev (brew install orbstack)',
        cause: err,
      });
    });
    if (version.exitCode !== 0) {
      throw new EngineUnreachableError('OrbStack is not working: `orb version` failed', {
        engineExitCode: version.exitCode,
        stderr: version.stderr,
        hint: 'Reinstall OrbStack or run: orb status',
      });
    }
    if (!(await this.orbRunning())) {
      log.info('starting OrbStack');
      await this.orbOk(['start'], 'Starting OrbStack');
    }
    let { all, running } = await this.machines();
    if (!all.includes(this.vmName)) {
      log.info('creating OrbStack machine', { name: this.vmName, distro: this.vmDistro });
      await this.orbOk(['create', this.vmDistro, this.vmName], `Creating OrbStack machine '${this.vmName}'`);
      ({ all, running } = await this.machines());
    }
    if (!running.includes(this.vmName)) {
      await this.orbOk(['start', this.vmName], `Starting OrbStack machine '${this.vmName}'`);
    }
    await this.ensurePodmanInMachine();
    if (await this.ensureSubIds()) {
      const migrate = await this.podman.capture(['system', 'migrate']);
      if (migrate.exitCode !== 0) log.warn('podman system migrate failed', { stderr: migrate.stderr });
    }
    await super.ensureReady();
  }

  private async ensurePodmanInMachine(): Promise<void> {
    if (await super.isAvailable()) return;
    const pm = await detectPackageManager(this.rootHost);
    if (!pm) {
      throw new MinoError(`Podman is missing in OrbStack machine '${this.vmName}' and no package manager was found`, {
        hint: `Install podman in the machine: orb -m ${this.vmName}`,
      });
    }
    for (const argv of installCommands(pm, packageNamesFor(pm, ['podman']))) {
      log.info('installing podman in machine', { argv });
      const result = await this.rootHost.run(argv);
      if (result.exitCode !== 0) {
        throw new MinoError(
          `Installing podman in '${this.vmName}' failed: ${result.stderr.trim().split('\n').pop() ?? ''}`,
          {
            hint: `Install it by hand: orb -m ${this.vmName} -u root ${argv.join(' ')}`,
          },
        );
      }
    }
  }

  /** Adds subuid/subgid ranges for the machine user when missing; true when anything changed. */
  private async ensureSubIds(): Promise<boolean> {
    const who = await this.host.run(['id', '-un']);
    const user = who.stdout.trim();
    if (who.exitCode !== 0 || !USER_NAME.test(user)) {
      throw new MinoError(`Unexpected user name in OrbStack machine: '${printable(user)}'`, {
        hint: `Check the machine's default user: orb -m ${this.vmName} id -un`,
      });
    }
    let changed = false;
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const has = await this.rootHost.run(['grep', '-q', '--', `^${user}:`, file]);
      if (has.exitCode === 0) continue;
      const add = await this.rootHost.run(['tee', '-a', file], { input: `${user}:${SUBID_RANGE}\n` });
      if (add.exitCode !== 0) {
        throw new MinoError(`Could not add ${user} to ${file} in '${this.vmName}': ${add.stderr.trim()}`, {
          hint: `Add the line '${user}:${SUBID_RANGE}' to ${file} in the machine`,
        });
      }
      changed = true;
    }
    return changed;
  }
}
