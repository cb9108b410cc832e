import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { addVerbosityOptions, applyGlobalOptions } from '../../../src/cli/global-options.js';
import { isQuiet, setQuiet } from '../../../src/cli/notices.js';
import { getLogLevel, setLogLevel } from '../../../src/common/logger.js';

/** A program with a nested subcommand whose action reports the applied global options. */
function parse(argv: string[]): ReturnType<typeof applyGlobalOptions> {
  let seen: ReturnType<typeof applyGlobalOptions> | undefined;
  const program = new Command('mino').exitOverride().enablePositionalOptions();
  const volume = program.command('volume');
  volume
    .command('create')
    .argument('<name>')
    .action((_n: string, _o: unknown, cmd: Command) => {
      seen = applyGlobalOptions(cmd);
    });
  program
    .command('run')
    .argument('[command...]')
    .passThroughOptions()
    .action((_c: string[], _o: unknown, cmd: Command) => {
      seen = applyGlobalOptions(cmd);
    });
  addVerbosityOptions(program);
  program.parse(argv, { from: 'user' });
  return seen!;
}

describe('-v and -q anywhere', () => {
  afterEach(() => {
    setQuiet(false);
    setLogLevel('warn');
  });

  it('counts -v before and after the subcommand name', () => {
    expect(parse(['-v', 'run', '-v', '--', 'x'])).toEqual({ verbose: 2, quiet: false });
    expect(getLogLevel()).toBe('debug');
    expect(parse(['volume', 'create', '-vvv', 'data']).verbose).toBe(3);
  });

  it('turns quiet on from any level, and only for options before --', () => {
    expect(parse(['-q', 'volume', 'create', 'data'])).toEqual({ verbose: 0, quiet: true });
    expect(isQuiet()).toBe(true);
    expect(parse(['run', '--', 'cmd', '-q'])).toEqual({ verbose: 0, quiet: false });
    expect(isQuiet()).toBe(false);
  });
});
