import type { ExecResult } from '../common/exec.js';
import { lastLines } from '../common/text.js';
import { localHost, type Host } from '../host/host.js';
import {
  detectPackageManager,
  installCommands,
  packageNamesFor,
  type PackageManager,
} from '../host/package-manager.js';
import { hasProgram } from './rootless-checks.js';

/** Runs commands as root on this host: directly when root, through sudo otherwise. */
export interface RootRunner {
  /** How commands get root ('root', 'sudo'), or undefined when they cannot. */
  readonly via: 'root' | 'sudo' | undefined;
  run(argv: readonly string[]): Promise<ExecResult>;
}

/**
 * Builds the RootRunner for this process on `host` (this machine). Non-interactive sudo never
 * prompts (`-n`).
 */
export async function rootRunner(interactive: boolean, host: Host = localHost): Promise<RootRunner> {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { via: 'root', run: (argv) => host.run(argv) };
  if (await hasProgram('sudo', host)) {
    const prefix = interactive ? ['sudo'] : ['sudo', '-n'];
    return { via: 'sudo', run: (argv) => host.run([...prefix, ...argv]) };
  }
  return {
    via: undefined,
    run: () =>
      Promise.resolve({
        stdout: '',
        stderr: 'root privileges are needed (run as root or install sudo)',
        exitCode: 1,
        signal: null,
      }),
  };
}

/** Result of installing packages. */
export interface InstallOutcome {
  ok: boolean;
  manager: PackageManager | undefined;
  packages: string[];
  error?: string;
}

/** Installs logical packages (podman, runc, uidmap, slirp4netns) with the package manager of `host`. */
export async function installPackages(
  root: RootRunner,
  logical: readonly string[],
  host: Host = localHost,
): Promise<InstallOutcome> {
  const manager = await detectPackageManager(host);
  if (!manager)
    return {
      ok: false,
      manager,
      packages: [...logical],
      error: 'no supported package manager (apt-get, dnf, pacman, zypper, apk) found',
    };
  const packages = packageNamesFor(manager, logical);
  for (const argv of installCommands(manager, packages)) {
    const result = await root.run(argv);
    if (result.exitCode !== 0) {
      return {
        ok: false,
        manager,
        packages,
        error: `${argv.slice(0, 3).join(' ')} failed: ${lastLines(result.stderr || result.stdout, 3)}`,
      };
    }
  }
  return { ok: true, manager, packages };
}
