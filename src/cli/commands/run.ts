import { Option, type Command } from 'commander';
import { readHostFacts } from '../../run/run-request.js';
import { runSession } from '../../run/run-session.js';
import { palette } from '../../common/terminal.js';
import type { BuildEvent } from '../../image/build-output.js';
import { buildProgress } from '../build-progress.js';
import { runConfigOf } from '../../config/run-config.js';
import { poolSettingsOf } from '../../pool/pool-settings.js';
import { parseWarmCount } from './pool.js';
import { addConfigOptions, loadConfigForCli, projectDirOf } from '../config-options.js';
import { sessionCli } from '../global-options.js';
import { isQuiet, noticeOrWarning } from '../notices.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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

/** `mino run`: start a session container for a project. */
export function registerRun(program: Command): void {
  addConfigOptions(program
    .command('run'))
    .description('Run a command (default: a shell) in a sandbox container for a project')
    .argument('[command...]', 'command and arguments, after --')
    .option('-n, --name <name>', 'session name (letters, digits, _ and -; default session-<8 hex>)')
    .option('-p, --project <dir>', 'project directory to mount read-write (default: current directory)')
    .option('--layers <names>', 'compose layers on the mino base image, comma-separated: typescript, python, rust, or your own (see mino layers)', collect, [])
    .option('--image <image>', 'run this image as is (default: localhost/mino-base:latest, or $MINO_IMAGE; base = the mino base image)')
    .option('-e, --env <KEY=VALUE|KEY>', "set an environment variable; KEY alone passes mino's own value of KEY without showing it on any command line (repeatable)", collect, [])
    .option('--volume <source:container[:ro|:rw]>', 'mount an absolute host path, or a named volume (see mino volume) (repeatable)', collect, [])
    .option('--no-home', 'no per-project home volume at /home/developer (mino images keep one by default)')
    .option('--no-cache', 'no dependency cache volumes for the project\'s lockfiles')
    .option('--cache-fresh', 'start this run\'s dependency caches empty (new volumes; old ones removed when unused)')
    .option('--cache-ro', 'mount complete dependency caches read-only (default: read-write; the tools lock their caches)')
    .option('-d, --detach', 'run in the background; see it with mino attach/logs/exec/stop')
    .option('--read-only', 'read-only root filesystem (tmpfs on /tmp, /run, /root; /home/developer unless the home volume is there)')
    .option('--network <mode>', 'bridge (default), host, none, or learn (everything allowed but the host, recorded; see --save)')
    .option('--network-allow <rules>', 'allow only these destinations, HOST:PORT[,HOST:PORT…] (repeatable); *.example.com:443 matches subdomains, not example.com itself', collect, [])
    .option('--network-preset <preset>', 'allowlist preset: dev (GitHub, Anthropic/OpenAI APIs, your registries) or registries (your npm/pip/cargo registries)')
    .option('--save', 'with --network learn: write the destinations used into .mino.toml as network_allow')
    .option('--allow-home', 'allow / or your home directory (or a parent of it) as the project or a --volume')
    .option('--allow-system-paths', 'allow system directories (/etc, /usr, /run, /var/run, ...) as a --volume')
    .option('--fresh', 'start a new container even when a warm one from the pool (mino pool warm) would do')
    .option('--dry-run', 'print the podman command instead of running it (and whether the warm pool would serve the run)')
    .addOption(new Option('--pool-warm <n>', 'keep N containers warm for this plan instead of running it (mino pool warm)').hideHelp())
    .option('--aws', 'pass short-lived AWS credentials (aws sts; settings in [credentials.aws])')
    .option('--gcp', 'pass a GCP access token (gcloud auth print-access-token)')
    .option('--azure', 'pass an Azure access token (az account get-access-token)')
    .option('--all-clouds', 'all of --aws, --gcp and --azure')
    .option('--no-github', "do not pass the gh CLI's token as GH_TOKEN/GITHUB_TOKEN")
    .option('--strict-credentials', 'fail when an enabled credential provider fails (default: warn and go on)')
    .option('--ssh-agent', "forward the host's SSH agent ($SSH_AUTH_SOCK) to the session")
    .option('--no-ssh-agent', 'do not forward the SSH agent (the default; overrides credentials.ssh_agent)')
    .option('--no-passthrough', 'do not pass the container.env_passthrough variables (ANTHROPIC_API_KEY, LANG, ...)')
    .option('--no-shared-logins', "do not mount the agent logins shared by all your sessions (for a project you do not trust)")
    .option('--agent-settings', "carry the host's Claude Code/Codex settings in, read-only (CLAUDE.md, settings.json, agents, commands, skills, AGENTS.md, prompts)")
    .passThroughOptions()
    .addHelpText('after', `
The container gets the project at /<folder name> (or /workspace), drops all capabilities, sets
no-new-privileges and a 4096 process limit, runs an init process, and (rootless) maps your user
so files it writes in the project are yours. mino exits with the command's exit code.

With a mino image, /home/developer is a volume kept per project (mino-home-<hash>), so logins and
history survive between sessions; --no-home (or your own mount there) leaves it out. With
--read-only it takes the place of the /home/developer tmpfs. --volume NAME:/path[:ro] mounts a
named volume made with 'mino volume create NAME'.

Dependency caches: for each lockfile in the project root (package-lock.json, yarn.lock,
pnpm-lock.yaml, Cargo.lock, requirements.txt/Pipfile.lock, poetry.lock, uv.lock, go.sum) a volume
mino-cache-<ecosystem>-<hash of the lockfile> is mounted at /cache/<ecosystem> and the tool's
variables point there (npm_config_cache, CARGO_HOME, PIP_CACHE_DIR, GOMODCACHE, ...). It is
complete once a run exits 0; --cache-ro mounts a complete cache read-only (npm ci may need to write
metadata, so read-write is the default); a
changed lockfile gets a new cache. See 'mino cache list'.

Network: bridge gives the container the host's outbound network; none gives it loopback only.
With --network-allow or --network-preset the container has no route out and no DNS: its only way
out is mino's egress proxy for this session, which runs on the host, resolves names at connect
time and checks each destination (host and port) against the rules. HTTP_PROXY, HTTPS_PROXY and
ALL_PROXY point at it (127.0.0.1:3128 inside the container; HTTP CONNECT, plain HTTP and SOCKS5),
so anything proxy-aware works, SSH to an allowed host:22 included (mino images route ssh through
it); unsetting the variables only loses access. Rules: HOST:PORT, [IPV6]:PORT, *.example.com:PORT
(any subdomain, not example.com itself), host.containers.internal:PORT (a service on the host's
loopback; nothing else reaches the host). UDP is not available. Blocked connections are listed when
the session ends; change a running session with 'mino network allow|deny NAME RULE'.

Credentials: the container.env_passthrough variables that are set (ANTHROPIC_API_KEY,
CLAUDE_CODE_OAUTH_TOKEN, OPENAI_API_KEY, LANG, LC_ALL, TZ, TERM), the gh token (GH_TOKEN,
GITHUB_TOKEN; --no-github), cloud credentials (--aws, --gcp, --azure) and -e KEY reach the
command through a read-only file that a small prelude reads before the command starts: never on a
command line, in 'podman inspect', the session file, the audit log or mino's logs. Agent logins
(Claude Code, Codex) made in any session are kept in one volume of yours and work in every later
session, in any project ('mino login' shows them, 'mino login --reset' forgets them).

Layers (--layers, else $MINO_LAYERS) are composed on mino-base into a local image named
mino-composed-<hash>; the first run builds it, later runs reuse it. A project's .mino/layers/<name>/
shadows $XDG_CONFIG_HOME/mino/layers/<name>/, which shadows the built-in layer.

Examples:
  mino run -- claude
  mino run --layers typescript -- npx tsc --noEmit
  mino run -n fix-tests -p ~/src/app -- npm test
  mino run -d -n agent -- sh -c 'long-job'   # then: mino logs agent -f; mino stop agent
  mino run --network-preset dev -- claude
  mino run --network-allow api.anthropic.com:443,host.containers.internal:11434 -- claude
  mino run --network learn --save -- npm ci   # then later runs use the saved allowlist`)
    .action(async (command: string[], opts: {
      name?: string; project?: string; image?: string; layers: string[]; env: string[]; volume: string[]; detach?: boolean;
      readOnly?: boolean; network?: string; allowHome?: boolean; allowSystemPaths?: boolean; dryRun?: boolean; home?: boolean;
      cache?: boolean; cacheFresh?: boolean; cacheRo?: boolean; networkAllow: string[]; networkPreset?: string; save?: boolean;
      aws?: boolean; gcp?: boolean; azure?: boolean; allClouds?: boolean; github?: boolean; strictCredentials?: boolean;
      sshAgent?: boolean; passthrough?: boolean; sharedLogins?: boolean; agentSettings?: boolean;
      fresh?: boolean; poolWarm?: string;
    }, cmd: Command) => {
      // A negatable flag not given leaves the decision to the configuration.
      const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
      const { ctx, rootless, localEngine } = sessionCli(cmd);
      const projectDir = projectDirOf(opts.project);
      const effective = await loadConfigForCli(cmd, projectDir);
      const config = runConfigOf(effective);
      const pool = poolSettingsOf(effective.config.pool);
      process.exitCode = await runSession(ctx, {
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
          aws: opts.aws, gcp: opts.gcp, azure: opts.azure, allClouds: opts.allClouds, strict: opts.strictCredentials,
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
        ...(opts.poolWarm === undefined ? {} : { warmPool: opts.poolWarm === 'min' ? pool.minWarm : parseWarmCount(opts.poolWarm) }),
      }, readHostFacts(rootless, process.env, localEngine), {
        say: noticeOrWarning,
        print: (l) => process.stdout.write(`${l}\n`),
        report: (l) => process.stderr.write(`${l}\n`),
        buildProgress: composeProgress(),
      });
    });
}
