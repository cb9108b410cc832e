import { Command, type CommanderError } from 'commander';
import { EXIT_USAGE, MinoError } from '../common/errors.js';
import { VERSION } from '../version.js';
import { addVerbosityOptions } from './global-options.js';
import { addConfigOptions } from './config-options.js';
import { SWEEP_COMMAND } from './background-sweep.js';
import { REFILL_COMMAND } from '../pool/pool-refill-spawn.js';

/** What a command module exports: registers its command(s) on the program. */
type Register = (program: Command) => void;

/** One command module: the top-level names (aliases included) it registers, and its loader. */
interface CommandModule {
  names: readonly string[];
  load: () => Promise<Register>;
  /** It needs every command registered (completions are generated from the program). */
  needsAll?: boolean;
}

/**
 * Every command module, in the order `mino --help` lists them. A module is loaded (its code and
 * everything it imports run) only when its command is on the command line: `mino run` never pays
 * for the modules of `setup`, `kube` or the proxy. The bundler keeps each `import()` inside the
 * one bundle, as a function that runs the module on first call.
 */
const COMMANDS: readonly CommandModule[] = [
  { names: ['run'], load: async () => (await import('./commands/run.js')).registerRun },
  { names: ['list', 'ls'], load: async () => (await import('./commands/list.js')).registerList },
  { names: ['stop'], load: async () => (await import('./commands/stop.js')).registerStop },
  {
    names: ['attach', 'detach', 'suspend', 'resume'],
    load: async () => {
      const m = await import('./commands/lifecycle.js');
      return (program) => {
        m.registerAttach(program);
        m.registerDetach(program);
        m.registerSuspend(program);
        m.registerResume(program);
      };
    },
  },
  { names: ['stats'], load: async () => (await import('./commands/stats.js')).registerStats },
  { names: ['logs'], load: async () => (await import('./commands/logs.js')).registerLogs },
  { names: ['exec'], load: async () => (await import('./commands/exec.js')).registerExec },
  { names: ['gc'], load: async () => (await import('./commands/gc.js')).registerGc },
  { names: ['login'], load: async () => (await import('./commands/login.js')).registerLogin },
  { names: ['layers'], load: async () => (await import('./commands/layers.js')).registerLayers },
  { names: ['setup'], load: async () => (await import('./commands/setup.js')).registerSetup },
  { names: ['status'], load: async () => (await import('./commands/status.js')).registerStatus },
  { names: ['volume'], load: async () => (await import('./commands/volume.js')).registerVolume },
  { names: ['network'], load: async () => (await import('./commands/network.js')).registerNetwork },
  { names: ['cache'], load: async () => (await import('./commands/cache.js')).registerCache },
  { names: ['init'], load: async () => (await import('./commands/init.js')).registerInit },
  { names: ['config'], load: async () => (await import('./commands/config.js')).registerConfig },
  { names: ['trust'], load: async () => (await import('./commands/trust.js')).registerTrust },
  { names: ['pool', REFILL_COMMAND], load: async () => (await import('./commands/pool.js')).registerPool },
  { names: ['kube'], load: async () => (await import('./commands/kube.js')).registerKube },
  { names: ['diff'], load: async () => (await import('./commands/diff.js')).registerDiff },
  { names: ['fork'], load: async () => (await import('./commands/fork.js')).registerFork },
  { names: ['branch'], load: async () => (await import('./commands/branch.js')).registerBranch },
  { names: ['engine'], load: async () => (await import('./commands/engine.js')).registerEngine },
  { names: ['sync'], load: async () => (await import('./commands/sync.js')).registerSync },
  {
    names: ['completions'],
    load: async () => (await import('./commands/completions.js')).registerCompletions,
    needsAll: true,
  },
  {
    names: ['_egress-proxy', '_egress-proxy-remote'],
    load: async () => (await import('./commands/egress-proxy.js')).registerEgressProxy,
  },
  { names: [SWEEP_COMMAND], load: async () => (await import('./commands/sweep.js')).registerSweep },
];

/**
 * The command modules a command line needs: those whose names appear among its words before
 * `--` (the command is one of them; an option value that happens to be a command name only
 * loads one module more). None found (`mino`, `mino --help`, a misspelt command, whose
 * suggestion needs every name) or a command that needs all: every module.
 */
export function commandModulesFor(argv: readonly string[] | undefined): readonly CommandModule[] {
  if (argv === undefined) return COMMANDS;
  const end = argv.indexOf('--');
  const words = new Set(end < 0 ? argv : argv.slice(0, end));
  const named = COMMANDS.filter((c) => c.names.some((n) => words.has(n)));
  return named.length === 0 || named.some((c) => c.needsAll) ? COMMANDS : named;
}

/** Loads every command module (the single executable's snapshot builder runs their module code once, ahead). */
export async function loadAllCommands(): Promise<void> {
  await Promise.all(COMMANDS.map((c) => c.load()));
}

/**
 * Builds the commander program with the commands `argv` needs registered (see
 * {@link commandModulesFor}; all of them without `argv`).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const modules = commandModulesFor(argv);
  const registers = await Promise.all(modules.map((c) => c.load()));
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
  for (const register of registers) register(program);
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
