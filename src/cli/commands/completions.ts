import type { Command } from 'commander';
import { UsageError } from '../../common/errors.js';
import { configKeys } from '../../config/config-keys.js';
import { bashCompletion } from '../completions/bash-completion.js';
import { completionModel } from '../completions/completion-model.js';
import { fishCompletion } from '../completions/fish-completion.js';
import { zshCompletion } from '../completions/zsh-completion.js';

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion } as const;

/** `mino completions bash|zsh|fish`: a completion script generated from the command definitions. */
export function registerCompletions(program: Command): void {
  program
    .command('completions')
    .description('Print a shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      `
Install:
  bash: echo 'source <(mino completions bash)' >> ~/.bashrc
  zsh:  echo 'source <(mino completions zsh)' >> ~/.zshrc    (after compinit)
  fish: mino completions fish > ~/.config/fish/completions/mino.fish`,
    )
    .action((shell: string) => {
      const generate = SHELLS[shell as keyof typeof SHELLS];
      if (!generate) throw new UsageError(`Unsupported shell '${shell}'`, 'Use bash, zsh or fish');
      const model = completionModel(program, {
        key: () => configKeys().map((k) => k.path),
        shell: () => Object.keys(SHELLS),
      });
      process.stdout.write(generate(model));
    });
}
