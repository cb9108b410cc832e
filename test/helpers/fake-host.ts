import type { ExecResult } from '../../src/common/exec.js';
import type { Host, HostCommand, HostRunOptions } from '../../src/host/host.js';

/**
 * A fake Host for unit tests: a small file system (path → text; directories as paths in
 * `dirs`), an environment and a user, with the programs mino runs on a podman host (`cat`,
 * `test`, `printenv`, `id`, `tee`, `mv`, `rm`, `mkdir`, `mktemp`, `ls`, `ldd`) working on them.
 * Other programs answer from `programs`, or fail with exit 127. Every call is recorded.
 */

/** A scripted program: gets the argv (program name first) and stdin. */
export type FakeProgram = (argv: readonly string[], input: string | undefined) => Partial<ExecResult> | undefined;

function result(partial: Partial<ExecResult> = {}): ExecResult {
  return { stdout: '', stderr: '', exitCode: 0, signal: null, ...partial };
}

const fail = (stderr: string, exitCode = 1): ExecResult => result({ stderr, exitCode });

/** The fake host; see the module comment. */
export class FakeHost implements Host {
  readonly name = 'fake host';
  files = new Map<string, string>();
  dirs = new Set<string>(['/', '/tmp']);
  env: Record<string, string> = { HOME: '/home/ann' };
  uid = 1000;
  user = 'ann';
  /** Extra programs (or replacements for the built-in ones), by name. */
  programs = new Map<string, FakeProgram>();
  /** Every argv run, in order. */
  calls: string[][] = [];
  private counter = 0;

  command(argv: readonly string[]): HostCommand {
    throw new Error(`FakeHost cannot start real processes (${argv.join(' ')})`);
  }

  /** The calls whose program is `name`. */
  callsOf(name: string): string[][] {
    return this.calls.filter((c) => c[0] === name);
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  async run(argv: readonly string[], options: HostRunOptions = {}): Promise<ExecResult> {
    this.calls.push([...argv]);
    const [cmd = '', ...args] = argv;
    const scripted = this.programs.get(cmd)?.(argv, options.input);
    if (scripted) return result(scripted);
    const operands = args.filter((a) => a !== '--');
    switch (cmd) {
      case 'cat': {
        const text = this.files.get(operands[0] ?? '');
        return text === undefined ? fail(`cat: ${operands[0]}: No such file or directory`) : result({ stdout: text });
      }
      case 'test':
        return this.exists(operands[1] ?? '') ? result() : fail('');
      case 'printenv': {
        const value = this.env[operands[0] ?? ''];
        return value === undefined ? fail('') : result({ stdout: `${value}\n` });
      }
      case 'id':
        return result({ stdout: operands[0] === '-un' ? `${this.user}\n` : `${this.uid}\n` });
      case 'tee':
        this.files.set(operands[operands.length - 1] ?? '', options.input ?? '');
        return result({ stdout: options.input ?? '' });
      case 'mv': {
        const [from = '', to = ''] = operands.filter((o) => o !== '-f');
        const text = this.files.get(from);
        if (text === undefined) return fail(`mv: cannot stat '${from}': No such file or directory`);
        this.files.set(to, text);
        this.files.delete(from);
        return result();
      }
      case 'rm':
        for (const path of operands.filter((o) => !o.startsWith('-'))) {
          for (const f of [...this.files.keys()]) if (f === path || f.startsWith(`${path}/`)) this.files.delete(f);
          for (const d of [...this.dirs]) if (d === path || d.startsWith(`${path}/`)) this.dirs.delete(d);
        }
        return result();
      case 'mkdir':
        for (const path of operands.filter((o) => !o.startsWith('-'))) this.dirs.add(path);
        return result();
      case 'mktemp': {
        const template = operands.find((o) => !o.startsWith('-')) ?? '/tmp/tmp.XXXXXX';
        const parent = template.slice(0, template.lastIndexOf('/')) || '/';
        if (!this.dirs.has(parent))
          return fail(`mktemp: failed to create directory via template '${template}': No such file or directory`);
        this.counter += 1;
        const path = template.replace(/X+$/, `fake${this.counter}`);
        this.dirs.add(path);
        return result({ stdout: `${path}\n` });
      }
      case 'ls': {
        const dir = operands.find((o) => !o.startsWith('-')) ?? '/';
        if (!this.dirs.has(dir)) return fail(`ls: cannot access '${dir}': No such file or directory`, 2);
        const names = [...this.files.keys(), ...this.dirs].filter(
          (p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'),
        );
        return result({
          stdout: names
            .map((p) => p.slice(dir.length + 1))
            .sort()
            .join('\n'),
        });
      }
      case 'ldd':
        return fail('\tnot a dynamic executable');
      default:
        return fail(`${cmd}: command not found`, 127);
    }
  }
}
