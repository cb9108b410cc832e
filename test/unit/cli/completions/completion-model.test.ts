import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { bashCompletion } from '../../../../src/cli/completions/bash-completion.js';
import { completionModel } from '../../../../src/cli/completions/completion-model.js';
import { fishCompletion } from '../../../../src/cli/completions/fish-completion.js';
import { zshCompletion } from '../../../../src/cli/completions/zsh-completion.js';

function program(): Command {
  const p = new Command('mino').option('-v, --verbose', 'more');
  p.command('run')
    .option('-p, --project <dir>', 'project')
    .option('--network <mode>', 'bridge, host or none')
    .option("--it's", "a 'quoted' flag");
  const config = p.command('config');
  config.command('set').argument('<key>', 'key').argument('<value>', 'value');
  return p;
}

describe('completions from the commander definition', () => {
  it('lists commands, options, value kinds and argument words', () => {
    const model = completionModel(program(), { key: () => ['container.network'] });
    expect(model.map((c) => c.path)).toEqual(['', 'run', 'config', 'config set']);
    const run = model.find((c) => c.path === 'run')!;
    expect(run.options.find((o) => o.flags.includes('--project'))?.value).toEqual({ kind: 'dir' });
    expect(run.options.find((o) => o.flags.includes('--network'))?.value).toEqual({
      kind: 'words',
      words: ['bridge', 'host', 'none'],
    });
    expect(model.find((c) => c.path === 'config set')?.argument).toEqual({
      kind: 'words',
      words: ['container.network'],
    });
  });

  it('writes a bash script that parses, quoting odd descriptions and flags', () => {
    const model = completionModel(program());
    const r = spawnSync('bash', ['-n'], { input: bashCompletion(model), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(zshCompletion(model)).toContain("'--it'\\''s:a '\\''quoted'\\'' flag'");
    expect(fishCompletion(model)).toContain("-l it's -d 'a \\'quoted\\' flag'");
  });
});
