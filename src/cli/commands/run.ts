import type { Command } from 'commander';
import { runSession } from '../../app/run-session.js';
import { sessionCli } from '../global-options.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `mino run`: start a session container for a project. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run a command (default: a shell) in a sandbox container for a project')
    .argument('[command...]', 'command and arguments, after --')
    .option('-n, --name <name>', 'session name (letters, digits, _ and -; default session-<8 hex>)')
    .option('-p, --project <dir>', 'project directory to mount read-write (default: current directory)')
    .option('--image <image>', 'container image (default: localhost/mino-base:latest, or $MINO_IMAGE)')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--volume <host:container[:ro|:rw]>', 'bind-mount a host path, absolute paths only (repeatable)', collect, [])
    .option('-d, --detach', 'run in the background; see it with mino logs/exec/stop')
    .option('--read-only', 'read-only root filesystem (tmpfs on /tmp, /run, /root, /home/developer)')
    .option('--network <mode>', 'bridge (default), host or none')
    .option('--allow-home', 'allow / or your home directory as the project')
    .option('--dry-run', 'print the podman command instead of running it')
    .passThroughOptions()
    .addHelpText('after', `
The container gets the project at /<folder name> (or /workspace), drops all capabilities, sets
no-new-privileges and a 4096 process limit, runs an init process, and (rootless) maps your user
so files it writes in the project are yours. mino exits with the command's exit code.

Examples:
  mino run -- claude
  mino run -n fix-tests -p ~/src/app -- npm test
  mino run -d -n agent -- sh -c 'long-job'   # then: mino logs agent -f; mino stop agent`)
    .action(async (command: string[], opts: {
      name?: string; project?: string; image?: string; env: string[]; volume: string[]; detach?: boolean;
      readOnly?: boolean; network?: string; allowHome?: boolean; dryRun?: boolean;
    }, cmd: Command) => {
      const { ctx, rootless } = sessionCli(cmd);
      process.exitCode = await runSession(ctx, {
        name: opts.name,
        project: opts.project,
        image: opts.image,
        env: opts.env,
        volumes: opts.volume,
        detach: Boolean(opts.detach),
        readOnly: Boolean(opts.readOnly),
        network: opts.network,
        allowHome: Boolean(opts.allowHome),
        command,
        dryRun: Boolean(opts.dryRun),
        shell: '/bin/sh',
      }, {
        stdinIsTty: Boolean(process.stdin.isTTY),
        rootless,
        say: (m) => process.stderr.write(`${m}\n`),
        print: (l) => process.stdout.write(`${l}\n`),
      });
    });
}
