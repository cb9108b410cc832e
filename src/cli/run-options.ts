import { Option, type Command } from 'commander';
import { palette } from '../common/terminal.js';
import { runConfigOf } from '../config/run-config.js';
import type { SessionContext } from '../context/session-context.js';
import type { BuildEvent } from '../image/build-output.js';
import { poolSettingsOf } from '../pool/pool-settings.js';
import { readHostFacts, type HostFacts, type RunIo, type RunRequest } from '../run/run-request.js';
import { buildProgress } from './build-progress.js';
import { addConfigOptions, loadConfigForCli, projectDirOf } from './config-options.js';
import { onChosenEngine } from './engine-context.js';
import { sessionCli } from './global-options.js';
import { isQuiet, noticeOrWarning } from './notices.js';

/**
 * The flags of `mino run`, shared with `mino pool warm` (which takes the same flags for the plan
 * it keeps warm), and the one translation of them into a run request.
 */

/** The flags of a run (commander's values; see {@link addRunOptions}). */
export interface RunOptions {
  name?: string;
  project?: string;
  image?: string;
  layers: string[];
  env: string[];
  volume: string[];
  detach?: boolean;
  readOnly?: boolean;
  network?: string;
  allowHome?: boolean;
  allowSystemPaths?: boolean;
  dryRun?: boolean;
  home?: boolean;
  cache?: boolean;
  cacheFresh?: boolean;
  cacheRo?: boolean;
  networkAllow: string[];
  networkPreset?: string;
  save?: boolean;
  aws?: boolean;
  gcp?: boolean;
  azure?: boolean;
  allClouds?: boolean;
  github?: boolean;
  strictCredentials?: boolean;
  sshAgent?: boolean;
  passthrough?: boolean;
  sharedLogins?: boolean;
  agentSettings?: boolean;
  fresh?: boolean;
  branch?: string | boolean;
  engine?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Flags, description, and whether the flag repeats (its values collected in order). */
const RUN_OPTIONS: [flags: string, description: string, repeats?: 'collect'][] = [
  ['-n, --name <name>', 'session name (letters, digits, _ and -; default session-<8 hex>)'],
  ['-p, --project <dir>', 'project directory to mount read-write (default: current directory)'],
  [
    '-b, --branch [name]',
    "work on branch mino/NAME in a working copy of the project's git repository of its own (NAME: the session's name when left out)",
  ],
  [
    '--layers <names>',
    'compose layers on the mino base image, comma-separated: typescript, python, rust, or your own (see mino layers)',
    'collect',
  ],
  [
    '--image <image>',
    'run this image as is (default: localhost/mino-base:latest, or $MINO_IMAGE; base = the mino base image)',
  ],
  [
    '-e, --env <KEY=VALUE|KEY>',
    "set an environment variable; KEY alone passes mino's own value of KEY without showing it on any command line (repeatable)",
    'collect',
  ],
  [
    '--volume <source:container[:ro|:rw]>',
    'mount an absolute host path, or a named volume (see mino volume) (repeatable)',
    'collect',
  ],
  ['--no-home', 'no per-project home volume at /home/developer (mino images keep one by default)'],
  ['--no-cache', "no dependency cache volumes for the project's lockfiles"],
  ['--cache-fresh', "start this run's dependency caches empty (new volumes; old ones removed when unused)"],
  ['--cache-ro', 'mount complete dependency caches read-only (default: read-write; the tools lock their caches)'],
  ['-d, --detach', 'run in the background; see it with mino attach/logs/exec/stop'],
  [
    '--read-only',
    'read-only root filesystem (tmpfs on /tmp, /run, /root; /home/developer unless the home volume is there)',
  ],
  [
    '--network <mode>',
    'bridge, host, none, or learn (everything allowed but the host, recorded; see --save); default: contained (the agent preset)',
  ],
  [
    '--network-allow <rules>',
    "allow only these destinations, HOST:PORT[,HOST:PORT…] (repeatable); *.example.com:443 matches subdomains, not example.com itself; HTTPS rules on method and path: 'GET,HEAD api.github.com/repos/OWNER/*', 'GIT-FETCH github.com/*'",
    'collect',
  ],
  [
    '--network-preset <preset>',
    'allowlist presets, comma-separated: agent (the default: Claude Code and your registries), dev (GitHub, Anthropic/OpenAI APIs, your registries), registries (your npm/pip/cargo registries), github-readonly (read the GitHub API, git fetch)',
  ],
  ['--save', 'with --network learn: write the destinations used into .mino.toml as network_allow'],
  ['--allow-home', 'allow / or your home directory (or a parent of it) as the project or a --volume'],
  ['--allow-system-paths', 'allow system directories (/etc, /usr, /run, /var/run, ...) as a --volume'],
  ['--engine <name>', 'run on this engine (see mino engine list; local = this machine; default: [engine] name)'],
  ['--fresh', 'start a new container even when a warm one from the pool (mino pool warm) would do'],
  ['--dry-run', 'print the podman command instead of running it (and whether the warm pool would serve the run)'],
  ['--aws', 'pass short-lived AWS credentials (aws sts; settings in [credentials.aws])'],
  ['--gcp', 'pass a GCP access token (gcloud auth print-access-token)'],
  ['--azure', 'pass an Azure access token (az account get-access-token)'],
  ['--all-clouds', 'all of --aws, --gcp and --azure'],
  ['--no-github', "do not pass the gh CLI's token as GH_TOKEN/GITHUB_TOKEN"],
  ['--strict-credentials', 'fail when an enabled credential provider fails (default: warn and go on)'],
  ['--ssh-agent', "forward the host's SSH agent ($SSH_AUTH_SOCK) to the session"],
  ['--no-ssh-agent', 'do not forward the SSH agent (the default; overrides credentials.ssh_agent)'],
  ['--no-passthrough', 'do not pass the container.env_passthrough variables (ANTHROPIC_API_KEY, LANG, ...)'],
  ['--no-shared-logins', 'do not mount the agent logins shared by all your sessions (for a project you do not trust)'],
  [
    '--agent-settings',
    "carry the host's Claude Code/Codex settings in, read-only (CLAUDE.md, settings.json, agents, commands, skills, AGENTS.md, prompts)",
  ],
];

/**
 * Adds the flags of `mino run` (and the configuration flags) to `command`. `mino pool warm` has
 * its own `-n` (the count): there the session name is `--name` only, and the flags stay out of
 * its help (`hidden`), which names them as run flags.
 */
export function addRunOptions(command: Command, options: { hidden?: boolean } = {}): Command {
  const before = command.options.length;
  addConfigOptions(command);
  for (const [flags, description, repeats] of RUN_OPTIONS) {
    const option = new Option(options.hidden && flags.startsWith('-n, ') ? flags.slice(4) : flags, description);
    if (repeats) option.argParser(collect).default([]);
    command.addOption(option);
  }
  if (options.hidden) for (const option of command.options.slice(before)) option.hideHelp();
  return command;
}

/** Build progress of a composed image on stderr, announced once at its first step. */
function composeProgress(): (event: BuildEvent) => void {
  if (isQuiet()) return () => undefined;
  const err = process.stderr;
  const progress = buildProgress(err);
  let announced = false;
  return (event) => {
    if (event.type === 'waiting') {
      err.write(`${palette(err).dim('Another mino is building the same image; waiting for it')}\n`);
      return;
    }
    if (!announced) {
      announced = true;
      err.write(`${palette(err).dim('Building the image for the selected layers (once; later runs reuse it)')}\n`);
    }
    progress.event(event);
    if (event.type === 'step' && event.step === event.total) progress.end();
  };
}

/** What a run use case takes: the session context, the request, the host's facts, its output. */
export interface RunInputs {
  ctx: SessionContext;
  req: RunRequest;
  facts: HostFacts;
  io: RunIo;
}

/** Reads the run request of `cmd` (flags `opts`, configuration, host facts) for the run of `command`. */
export async function runInputsOf(cmd: Command, opts: RunOptions, command: string[]): Promise<RunInputs> {
  // A negatable flag not given leaves the decision to the configuration.
  const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
  const local = sessionCli(cmd);
  const projectDir = projectDirOf(opts.project);
  const effective = await loadConfigForCli(cmd, projectDir);
  const config = runConfigOf(effective);
  const { ctx, rootless, localEngine } = onChosenEngine(local, opts.engine, config.engine);
  const pool = poolSettingsOf(effective.config.pool);
  const req: RunRequest = {
    name: opts.name,
    projectDir,
    image: opts.image,
    layers: opts.layers,
    env: opts.env,
    volumes: opts.volume,
    detach: Boolean(opts.detach),
    readOnly: Boolean(opts.readOnly),
    network: opts.network,
    networkAllow: opts.networkAllow,
    networkPreset: opts.networkPreset,
    saveLearned: Boolean(opts.save),
    allowHome: Boolean(opts.allowHome),
    allowSystemPaths: Boolean(opts.allowSystemPaths),
    noHome: opts.home === false,
    noCache: opts.cache === false,
    cacheFresh: Boolean(opts.cacheFresh),
    cacheRo: Boolean(opts.cacheRo),
    credentials: {
      aws: opts.aws,
      gcp: opts.gcp,
      azure: opts.azure,
      allClouds: opts.allClouds,
      strict: opts.strictCredentials,
      ...(given('github') ? { github: opts.github } : {}),
      ...(given('sshAgent') ? { sshAgent: opts.sshAgent } : {}),
      ...(given('passthrough') ? { passthrough: opts.passthrough } : {}),
      ...(given('sharedLogins') ? { shareLogins: opts.sharedLogins } : {}),
      ...(given('agentSettings') ? { agentSettings: opts.agentSettings } : {}),
    },
    command,
    dryRun: Boolean(opts.dryRun),
    config,
    fresh: Boolean(opts.fresh),
    pool,
    ...(opts.branch === undefined ? {} : { branch: opts.branch === true ? '' : String(opts.branch) }),
  };
  return {
    ctx,
    req,
    facts: readHostFacts(rootless, process.env, localEngine),
    io: {
      say: noticeOrWarning,
      print: (l) => process.stdout.write(`${l}\n`),
      report: (l) => process.stderr.write(`${l}\n`),
      buildProgress: composeProgress(),
    },
  };
}
