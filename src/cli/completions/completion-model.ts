import type { Command, Option } from 'commander';

/**
 * What shell completions need to know, read from the commander program itself (so completions
 * never drift from the real commands): every command path, its subcommands, its options and
 * which options take a value (with their choices, or files/directories).
 */

/** How the value of an option (or an argument) is completed. */
export type ValueCompletion =
  | { kind: 'none' }
  | { kind: 'file' }
  | { kind: 'dir' }
  | { kind: 'words'; words: string[] };

/** One option. */
interface CompletionOption {
  /** `-n`, `--name`. */
  flags: string[];
  description: string;
  /** Undefined for flags without a value. */
  value?: ValueCompletion;
}

/** One command (the program itself has path `''`). */
export interface CompletionCommand {
  /** Space-separated path, e.g. `config set`. */
  path: string;
  /** Names (and aliases) of its subcommands with their descriptions. */
  subcommands: Array<{ name: string; description: string }>;
  options: CompletionOption[];
  /** Completion of its first positional argument, if any. */
  argument?: ValueCompletion;
}

/** Extra word lists for positional arguments, by argument name (e.g. `key` → config keys). */
export type ArgumentWords = Readonly<Record<string, () => string[]>>;

/** How the value of `option` completes, or undefined when it takes none. */
function valueCompletionOf(option: Option): ValueCompletion | undefined {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return { kind: 'words', words: [...option.argChoices] };
  const name = option.long ?? '';
  if (/project|path|dir/.test(name)) return { kind: 'dir' };
  if (/config|file/.test(name)) return { kind: 'file' };
  const choices = /\b([a-z]+(?:\|[a-z]+)+)\b|(\b[a-z]+(?:, [a-z]+)* or [a-z]+\b)/.exec(option.description);
  if (choices && /format|network|shell/.test(name)) {
    const words = (choices[1] ?? choices[2] ?? '').split(/\||, | or /).filter(Boolean);
    return { kind: 'words', words };
  }
  return { kind: 'none' };
}

/** Every command of the program, depth first, with what completes where. */
export function completionModel(program: Command, argumentWords: ArgumentWords = {}): CompletionCommand[] {
  const out: CompletionCommand[] = [];
  const walk = (cmd: Command, path: string[]): void => {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    const options: CompletionOption[] = cmd.options
      .filter((o) => !o.hidden)
      .map((o) => {
        const value = valueCompletionOf(o);
        return {
          flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
          description: o.description,
          ...(value ? { value } : {}),
        };
      });
    options.push({ flags: ['-h', '--help'], description: 'show help' });
    const first = cmd.registeredArguments[0];
    const words = first ? argumentWords[first.name()] : undefined;
    out.push({
      path: path.join(' '),
      subcommands: visible.flatMap((c) =>
        [c.name(), ...c.aliases()].map((name) => ({ name, description: c.description() })),
      ),
      options,
      ...(first
        ? {
            argument: words
              ? { kind: 'words' as const, words: words() }
              : first.argChoices
                ? { kind: 'words' as const, words: [...first.argChoices] }
                : { kind: 'none' as const },
          }
        : {}),
    });
    for (const c of visible) walk(c, [...path, c.name()]);
  };
  walk(program, []);
  return out;
}
