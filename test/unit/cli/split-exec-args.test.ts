import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { splitExecArgs } from '../../../src/cli/commands/exec.js';
import { buildProgram } from '../../../src/cli/program.js';

type Split = { name: string | undefined; command: string[] };

/**
 * Parses `mino <argv...>` with the real program (same options, enablePositionalOptions and
 * passThroughOptions as the CLI), replacing exec's action by one that records what
 * splitExecArgs makes of commander's raw and parsed arguments, exactly as the real action does.
 */
async function viaCli(argv: string[]): Promise<Split> {
  const program = await buildProgram();
  const exec = program.commands.find((c) => c.name() === 'exec');
  if (!exec) throw new Error('no exec command');
  let got: Split | undefined;
  exec.action((_name: unknown, _command: unknown, _opts: unknown, cmd: Command) => {
    got = splitExecArgs((cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [], cmd.args);
  });
  await program.parseAsync(argv, { from: 'user' });
  if (!got) throw new Error('exec action did not run');
  return got;
}

describe('splitExecArgs through the real command line', () => {
  it.each<[string[], Split]>([
    [['exec'], { name: undefined, command: [] }],
    [['exec', 'web'], { name: 'web', command: [] }],
    [['exec', 'web', '--'], { name: 'web', command: [] }],
    [['exec', '--'], { name: undefined, command: [] }],
    [['exec', 'web', '--', 'ls', '-la'], { name: 'web', command: ['ls', '-la'] }],
    [['exec', 'web', 'ls', '-la'], { name: 'web', command: ['ls', '-la'] }],
    [['exec', 'web', '-la'], { name: 'web', command: ['-la'] }],
    [['exec', '--', 'ls', '-la'], { name: undefined, command: ['ls', '-la'] }],
    [['exec', '--', 'ls'], { name: undefined, command: ['ls'] }],
    [['exec', '--', '-la'], { name: undefined, command: ['-la'] }],
    [['exec', 'web', '--', '--help'], { name: 'web', command: ['--help'] }],
    [['exec', 'web', '--', 'ls', '--', 'x'], { name: 'web', command: ['ls', '--', 'x'] }],
    [['exec', 'web', '--', '--', 'x'], { name: 'web', command: ['--', 'x'] }],
    [['exec', '--', '--', 'x'], { name: undefined, command: ['--', 'x'] }],
  ])('mino %j', async (argv, want) => {
    expect(await viaCli(argv)).toEqual(want);
  });

  it('after a leading --, everything is the command, even a word that looks like a session and another --', async () => {
    expect(await viaCli(['exec', '--', 'web', '--', 'ls'])).toEqual({ name: undefined, command: ['web', '--', 'ls'] });
  });

  it('keeps command arguments byte for byte (spaces, quotes, empty strings, =)', async () => {
    const cmd = ['sh', '-c', 'echo "$HOME" && exit 3', '', 'API_TOKEN=x', ' lead'];
    expect(await viaCli(['exec', 'web', '--', ...cmd])).toEqual({ name: 'web', command: cmd });
    expect(await viaCli(['exec', '--', ...cmd])).toEqual({ name: undefined, command: cmd });
  });

  it('reads global options before exec', async () => {
    expect(await viaCli(['-v', 'exec', '--', 'ls'])).toEqual({ name: undefined, command: ['ls'] });
    expect(await viaCli(['-vv', 'exec', 'web', '--', 'ls'])).toEqual({ name: 'web', command: ['ls'] });
  });

  it('handles a session named "exec" and a command named "exec"', async () => {
    expect(await viaCli(['exec', 'exec', '--', 'ls'])).toEqual({ name: 'exec', command: ['ls'] });
    expect(await viaCli(['-v', 'exec', 'exec'])).toEqual({ name: 'exec', command: [] });
    expect(await viaCli(['exec', '--', 'exec', 'ls'])).toEqual({ name: undefined, command: ['exec', 'ls'] });
    expect(await viaCli(['exec', 'web', '--', 'exec'])).toEqual({ name: 'web', command: ['exec'] });
  });

  it('rejects an option of its own before the operands (usage error, nothing run)', async () => {
    await expect(viaCli(['exec', '-x', '--', 'ls'])).rejects.toMatchObject({ code: 'commander.unknownOption' });
  });
});

describe('splitExecArgs', () => {
  it('takes a `--` right after exec as "no session name" (commander has already dropped it from args)', () => {
    expect(splitExecArgs(['exec', '--', 'ls', '-la'], ['ls', '-la'])).toEqual({
      name: undefined,
      command: ['ls', '-la'],
    });
  });

  it('without that `--`, the first operand is the session name and a `--` after it is dropped', () => {
    expect(splitExecArgs(['exec', 'web', '--', 'ls'], ['web', '--', 'ls'])).toEqual({ name: 'web', command: ['ls'] });
    expect(splitExecArgs(['exec', 'web', 'ls'], ['web', 'ls'])).toEqual({ name: 'web', command: ['ls'] });
  });

  it('drops only the first `--` after the name', () => {
    expect(splitExecArgs(['exec', 'web', '--', '--'], ['web', '--', '--'])).toEqual({ name: 'web', command: ['--'] });
    expect(splitExecArgs(['exec', 'web', 'ls', '--'], ['web', 'ls', '--'])).toEqual({
      name: 'web',
      command: ['ls', '--'],
    });
  });

  it('understands raw arguments in node form (node, script, ...)', () => {
    expect(splitExecArgs(['/usr/bin/node', '/opt/mino/bin/mino', '-v', 'exec', '--', 'id'], ['id'])).toEqual({
      name: undefined,
      command: ['id'],
    });
    expect(
      splitExecArgs(['/usr/bin/node', '/opt/mino/bin/mino', 'exec', 'web', '--', 'id'], ['web', '--', 'id']),
    ).toEqual({ name: 'web', command: ['id'] });
  });

  it('skips options between exec and the first operand', () => {
    expect(splitExecArgs(['exec', '--some-flag', '--', 'id'], ['id'])).toEqual({ name: undefined, command: ['id'] });
    expect(splitExecArgs(['exec', '--some-flag', 'web', 'id'], ['web', 'id'])).toEqual({
      name: 'web',
      command: ['id'],
    });
  });

  it('without raw arguments, falls back to the parsed ones', () => {
    expect(splitExecArgs([], [])).toEqual({ name: undefined, command: [] });
    expect(splitExecArgs([], ['web', '--', 'id'])).toEqual({ name: 'web', command: ['id'] });
  });

  it('returns a new command array and leaves its inputs alone', () => {
    const raw = Object.freeze(['exec', '--', 'ls', '-la']);
    const args = Object.freeze(['ls', '-la']);
    const out = splitExecArgs(raw, args);
    expect(out.command).not.toBe(args);
    out.command.push('mutated');
    expect(args).toEqual(['ls', '-la']);
  });
});
