import { Command, type CommanderError } from 'commander';
import { EXIT_USAGE, MinoError } from '../common/errors.js';
import { VERSION } from '../version.js';
import { addVerbosityOptions } from './global-options.js';
import { registerEgressProxy } from './commands/egress-proxy.js';
import { registerExec } from './commands/exec.js';
import { registerGc } from './commands/gc.js';
import { registerLayers } from './commands/layers.js';
import { registerList } from './commands/list.js';
import { registerNetwork } from './commands/network.js';
import { registerLogin } from './commands/login.js';
import { registerLogs } from './commands/logs.js';
import { registerRun } from './commands/run.js';
import { registerSetup } from './commands/setup.js';
import { registerStatus } from './commands/status.js';
import { registerStop } from './commands/stop.js';
import { registerSweep } from './commands/sweep.js';
import { registerStats } from './commands/stats.js';
import { registerAttach, registerDetach, registerResume, registerSuspend } from './commands/lifecycle.js';
import { registerVolume } from './commands/volume.js';
import { registerCache } from './commands/cache.js';
import { registerCompletions } from './commands/completions.js';
import { registerConfig } from './commands/config.js';
import { registerInit } from './commands/init.js';
import { registerTrust } from './commands/trust.js';
import { registerPool } from './commands/pool.js';
import { registerKube } from './commands/kube.js';
import { registerDiff } from './commands/diff.js';
import { registerFork } from './commands/fork.js';
import { registerBranch } from './commands/branch.js';
import { registerEngine } from './commands/engine.js';
import { registerSync } from './commands/sync.js';
import { addConfigOptions } from './config-options.js';

/** Builds the commander program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('mino');
  program
    .description('Run AI coding agents in locked-down rootless Podman containers, one project at a time')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureOutput({
      // Usage errors are printed by main() as `Error:` + `Hint:`; help goes to stdout.
      outputError: () => undefined,
    })
    .exitOverride();
  program.enablePositionalOptions();
  registerRun(program);
  registerList(program);
  registerStop(program);
  registerAttach(program);
  registerDetach(program);
  registerSuspend(program);
  registerResume(program);
  registerStats(program);
  registerLogs(program);
  registerExec(program);
  registerGc(program);
  registerLogin(program);
  registerLayers(program);
  registerSetup(program);
  registerStatus(program);
  registerVolume(program);
  registerNetwork(program);
  registerCache(program);
  registerInit(program);
  registerConfig(program);
  registerTrust(program);
  registerPool(program);
  registerKube(program);
  registerDiff(program);
  registerFork(program);
  registerBranch(program);
  registerEngine(program);
  registerSync(program);
  registerCompletions(program);
  registerEgressProxy(program);
  registerSweep(program);
  addConfigOptions(program);
  addVerbosityOptions(program);
  for (const sub of program.commands) {
    sub
      .exitOverride()
      .configureOutput({ outputError: () => undefined })
      .showSuggestionAfterError(true);
  }
  return program;
}

/** Turns a commander parse error into a MinoError (exit 2), or undefined for help/version exits. */
export function fromCommanderError(err: CommanderError, argv: readonly string[]): MinoError | undefined {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
    return undefined;
  }
  const message = err.message.replace(/^error:\s*/i, '');
  const sub = argv.find((a) => !a.startsWith('-'));
  const hint =
    err.code === 'commander.unknownCommand' || !sub
      ? "Run 'mino --help' to see the commands"
      : `Run 'mino ${sub} --help' for usage`;
  return new MinoError(message.charAt(0).toUpperCase() + message.slice(1), { hint, exitCode: EXIT_USAGE });
}
