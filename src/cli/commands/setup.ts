import type { Command } from 'commander';
import { runDoctor } from '../../setup/doctor.js';
import { ownStoreAccess } from '../../setup/own-store-access.js';
import { isInteractive, palette } from '../../common/terminal.js';
import { applyGlobalOptions, runtimeForCli } from '../global-options.js';
import { loadGlobalConfig, resolveConfig } from '../../config/effective-config.js';
import { readConfigFlags } from '../config-options.js';
import { confirm } from '../prompt.js';
import { formatCheck } from '../render-checks.js';
import { buildProgress } from '../build-progress.js';
import { isQuiet } from '../notices.js';
import { UsageError } from '../../common/errors.js';
import { DEFAULT_IMAGE } from '../../config/defaults.js';
import { findEngine, readEngineRegistry } from '../../engine/engine-registry.js';
import { runtimeOfEngine } from '../../engine/engine-runtime.js';
import { recordEngineFacts } from '../../engine/manage-engines.js';
import { checkEngine, ensureEngineImage } from '../../setup/engine-check.js';

/** The flags of `mino setup`. */
type SetupOptions = { yes?: boolean; check?: boolean; skipImage?: boolean; engine?: string; image?: string };

/** `mino setup`: installs and repairs what the container engine needs on this machine. */
export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('Install Podman and fix host problems so containers run (use --check to only report)')
    .option('-y, --yes', 'apply every fix without asking (for scripts and CI)')
    .option('--check', 'only report what would be installed or changed')
    .option('--skip-image', 'only repair the engine; do not build the mino-base image')
    .option('--engine <name>', 'check a remote engine (mino engine add) and ship the session image there instead')
    .option('--image <image>', 'with --engine: the image to ship (default: localhost/mino-base:latest)')
    .addHelpText(
      'after',
      `
What it does (Linux): installs podman, uidmap, slirp4netns and catatonit (the --init process) with
the system package manager (apt-get, dnf, pacman, zypper or apk; through sudo when not root), adds
sub-uid/gid ranges, makes /dev/net/tun usable, then runs a probe container and repairs what it
reports:
  crun on a cgroup v1 hybrid host  -> installs runc, sets [engine] runtime = "runc"
  ulimits the host cannot grant    -> sets [containers] default_ulimits within the hard limits
  no container init (catatonit)    -> installs catatonit, which --init needs
  rootless store on vfs            -> switches to native overlay when this kernel supports it and
                                      the store holds only what mino can rebuild (vfs copies the
                                      whole image for every container: 30 s per start with mino-base);
                                      when it holds images, containers or volumes of yours, mino
                                      keeps its own in a store of its own on overlay instead
                                      (~/.local/share/mino/containers; yours is never touched)
Edits go into the files you own (~/.config/containers/containers.conf and storage.conf, or
/etc/containers/containers.conf as root); only the changed key is written.
Then it builds the session image localhost/mino-base (Debian, git, zsh, Node.js, Claude Code; a
few minutes, once per mino version). Its parent is pulled from a registry when one is reachable;
otherwise it is made with debootstrap from this host's apt mirror (debootstrap is installed when
missing). npm uses this host's registry, and the host's extra CA certificates are trusted.
On macOS it starts OrbStack, creates the machine, installs podman in it and adds uid ranges.
Exits 1 when a critical problem remains.`,
    )
    .action(async (opts: SetupOptions, command: Command) => {
      applyGlobalOptions(command);
      if (opts.engine !== undefined && opts.engine !== 'local') {
        await setupRemoteEngine(opts.engine, opts.image, Boolean(opts.check || opts.skipImage));
        return;
      }
      if (opts.image !== undefined) throw new UsageError('--image needs --engine NAME', 'Add --engine NAME');
      // image.base_from comes from your own config file only (a project cannot pick the parent).
      const baseFrom = resolveConfig(loadGlobalConfig(readConfigFlags(command).configPath).file?.raw, undefined).config
        .image.base_from;
      // The engine on the user's default store: the storage check decides whether mino uses its own.
      const { defaultRuntime: runtime, ownStore, host, kind } = runtimeForCli({ lenient: true });
      const out = process.stdout;
      const p = palette(out);
      out.write(`${p.bold('mino setup')}${opts.check ? ' (check only)' : ''}\n`);
      const err = process.stderr;
      const progress = buildProgress(err);
      const pe = palette(err);
      const report = await runDoctor({
        runtime,
        host,
        kind,
        ownStore: ownStoreAccess(ownStore),
        fix: !opts.check,
        assumeYes: Boolean(opts.yes),
        interactive: isInteractive(),
        confirm,
        reporter: (r) => out.write(formatCheck(r, out)),
        skipImage: Boolean(opts.skipImage),
        baseFrom,
        progress: isQuiet()
          ? { say: () => undefined, buildOutput: () => undefined }
          : {
              say: (text) => {
                progress.end();
                err.write(`${pe.dim(text)}\n`);
              },
              buildOutput: (line) => progress.line(line),
            },
      });
      progress.end();
      const fixed = report.results.filter((r) => r.status === 'fixed').length;
      if (report.ok) {
        out.write(
          `${p.green('Setup complete.')}${fixed ? ` ${fixed} fix(es) applied.` : ''} Run 'mino status' to see the engine, 'mino run -- <command>' to start.\n`,
        );
      } else {
        const failed = report.results.filter((r) => r.status === 'fail').length;
        out.write(
          `${p.red(`${failed} problem(s) remain.`)} ${opts.check ? "Run 'mino setup' to fix them." : 'See the hints above.'}\n`,
        );
        process.exitCode = 1;
      }
    });
}

/** `mino setup --engine NAME`: the engine checked, its facts recorded, the image shipped when missing. */
async function setupRemoteEngine(name: string, image: string | undefined, checkOnly: boolean): Promise<void> {
  const engine = findEngine(readEngineRegistry(), name);
  const local = runtimeForCli({ lenient: true });
  const runtime = runtimeOfEngine(engine, local.ownStore);
  const out = process.stdout;
  const started = Date.now();
  const facts = await checkEngine(runtime, name);
  recordEngineFacts(name, facts);
  out.write(
    `Engine ${name}: Podman ${facts.version}${facts.rootless ? ' (rootless)' : ''}, reachable in ${Date.now() - started} ms\n`,
  );
  if (checkOnly) return;
  const wanted = image ?? DEFAULT_IMAGE;
  const t = Date.now();
  const arrival = await ensureEngineImage(runtime, local.runtime, wanted, name);
  out.write(
    arrival === 'present'
      ? `${wanted} is on engine ${name}\n`
      : `Shipped ${wanted} to engine ${name} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`,
  );
}
