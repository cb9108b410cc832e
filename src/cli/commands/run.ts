import type { Command } from 'commander';
import { exitWhenIdle } from '../../common/exit-early.js';
import { runSession } from '../../run/run-session.js';
import { addRunOptions, runInputsOf, type RunOptions } from '../run-options.js';

/** `mino run`: start a session container for a project. */
export function registerRun(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('Run a command (default: a shell) in a sandbox container for a project')
      .argument('[command...]', 'command and arguments, after --'),
  )
    .passThroughOptions()
    .addHelpText(
      'after',
      `
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
  mino run -b fix-tests -- claude   # a working copy of its own on branch mino/fix-tests
  mino run -d -n agent -- sh -c 'long-job'   # then: mino logs agent -f; mino stop agent
  mino run --network-preset dev -- claude
  mino run --network-allow api.anthropic.com:443,host.containers.internal:11434 -- claude
  mino run --network learn --save -- npm ci   # then later runs use the saved allowlist`,
    )
    .action(async (command: string[], opts: RunOptions, cmd: Command) => {
      const { ctx, req, facts, io } = await runInputsOf(cmd, opts, command);
      process.exitCode = await runSession(ctx, req, facts, io);
      exitWhenIdle();
    });
}
