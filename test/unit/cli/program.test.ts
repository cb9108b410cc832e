import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandModulesFor } from '../../../src/cli/program.js';

/** Top-level names (and aliases) of a program's commands, in order. */
function names(program: Command): string[] {
  return program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

describe('lazy loading of command modules', () => {
  it('each module registers exactly the names it is listed under, and all of them make the whole program', async () => {
    const all = commandModulesFor(undefined);
    const seen: string[] = [];
    for (const m of all) {
      const program = new Command('mino').enablePositionalOptions();
      (await m.load())(program);
      expect(names(program).sort()).toEqual([...m.names].sort());
      seen.push(...m.names);
    }
    const full = await buildProgram();
    expect(names(full)).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    // The order `mino --help` lists them in.
    expect(full.commands.map((c) => c.name()).slice(0, 4)).toEqual(['run', 'list', 'stop', 'attach']);
  });

  it('a command line loads the modules of the command names before --, every module when none is named', () => {
    const of = (argv: string[]): string[] => commandModulesFor(argv).map((m) => m.names[0]!);
    const everything = commandModulesFor(undefined).map((m) => m.names[0]);
    expect(of(['run', '--network', 'none', '--', 'npm', 'list'])).toEqual(['run']);
    expect(of(['-v', '--trace', 'ls', '-a'])).toEqual(['list']);
    expect(of(['attach', 'x'])).toEqual(['attach']);
    expect(of(['__pool-refill', 'k'])).toEqual(['pool']);
    expect(of(['-c', 'list', 'run'])).toEqual(['run', 'list']);
    expect(of([])).toEqual(everything);
    expect(of(['--help'])).toEqual(everything);
    expect(of(['rnu'])).toEqual(everything);
    expect(of(['--', 'run'])).toEqual(everything);
    expect(of(['completions', 'bash'])).toEqual(everything);
  });

  it('a program built for one command parses it; other commands are not registered', async () => {
    const program = await buildProgram(['exec', 'web']);
    expect(names(program)).toEqual(['exec']);
    expect(program.options.map((o) => o.long)).toContain('--trace');
  });
});
