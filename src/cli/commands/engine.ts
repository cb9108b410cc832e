import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { readEngineRegistry } from '../../engine/engine-registry.js';
import { runtimeOfEngine } from '../../engine/engine-runtime.js';
import { describeEngineUrl } from '../../engine/engine-url.js';
import { addEngine, setDefaultEngine } from '../../engine/manage-engines.js';
import { removeEngineAndPools } from '../../pool/remove-engine.js';
import { checkEngine } from '../../setup/engine-check.js';
import { applyGlobalOptions, sessionCli } from '../global-options.js';
import { notice } from '../notices.js';

/** `mino engine add|list|remove|default`: the Podman engines of other machines. */
export function registerEngine(program: Command): void {
  const engine = program
    .command('engine')
    .description('Podman engines of other machines (or users) that sessions can run on (mino run --engine NAME)')
    .addHelpText(
      'after',
      `
An engine is a Podman service mino drives with podman's remote client:
  ssh://user@host[:port]/path/to/podman.sock   (another machine, over ssh; --identity KEY)
  unix:///path/to/podman.sock                  (a socket on this machine)
On the engine's host, the user runs: podman system service --time=0 unix:///path/to/podman.sock
Then: mino engine add NAME URL, mino setup --engine NAME (ships mino-base there), and
mino run --engine NAME. The project travels in a volume there and back (see mino sync --help).
'local' is this machine's engine.`,
    );
  engine
    .command('add')
    .description('Register an engine (checked first: reachable, Podman, recent enough)')
    .argument('<name>', 'engine name (a-z, 0-9, -)')
    .argument('<url>', 'ssh://user@host[:port]/path.sock or unix:///path.sock')
    .option('-i, --identity <key>', 'ssh private key file (default: your ssh agent and keys)')
    .option('--no-check', 'register without connecting (check later with mino setup --engine NAME)')
    .action(async (name: string, url: string, opts: { identity?: string; check: boolean }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const added = await addEngine({
        name,
        url,
        ...(opts.identity === undefined ? {} : { identity: opts.identity }),
        ...(opts.check ? { check: (e) => checkEngine(runtimeOfEngine(e), e.name) } : {}),
      });
      notice(
        `Engine ${added.name} added: ${describeEngineUrl(added.url)}${added.version ? `, Podman ${added.version}${added.rootless ? ' (rootless)' : ''}` : ''}`,
      );
    });
  engine
    .command('list')
    .alias('ls')
    .description('List the engines')
    .action((_opts: unknown, cmd: Command) => {
      applyGlobalOptions(cmd);
      const registry = readEngineRegistry();
      const rows = [
        ['NAME', 'DEFAULT', 'URL', 'PODMAN'],
        ['local', registry.default === undefined ? '*' : '', 'this machine', ''],
        ...registry.engines.map((e) => [e.name, registry.default === e.name ? '*' : '', e.url.text, e.version ?? '?']),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      for (const r of rows)
        process.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i] ?? 0))
            .join('  ')
            .trimEnd()}\n`,
        );
    });
  engine
    .command('remove')
    .alias('rm')
    .description('Forget an engine, its warm pools drained first (refused while a session runs on it)')
    .argument('<name>', 'engine name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { ctx } = sessionCli(cmd);
      if (name === 'local') throw new UsageError("'local' is this machine's engine and cannot be removed");
      const { drained } = await removeEngineAndPools(ctx, name);
      if (drained) notice(`Removed ${drained.containers} warm container(s) of ${drained.pools} pool(s) on ${name}`);
      if (drained?.unreachable.length)
        process.stderr.write(
          `Warning: engine ${name} did not answer: its warm containers were not removed (they end themselves after pool.warm_ttl)\n`,
        );
      notice(`Engine ${name} removed (its volumes and images stay on it)`);
    });
  engine
    .command('default')
    .description('Make an engine the default of runs (local: this machine)')
    .argument('<name>', 'engine name, or local')
    .action((name: string, _opts: unknown, cmd: Command) => {
      applyGlobalOptions(cmd);
      setDefaultEngine(name);
      notice(`Runs use engine ${name} unless --engine or [engine] name says otherwise`);
    });
}
