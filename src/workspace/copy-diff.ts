import { git } from '../host/git.js';
import { worktreeTree } from './copy-state.js';

/**
 * `mino diff`: what a working copy holds against its base, committed and uncommitted alike (new
 * files too), as git prints it. External diff and text conversion programs stay off (they would
 * run the agent's choice of program on the host).
 */
export async function copyDiff(
  copy: string,
  base: string,
  options: { stat?: boolean; excludesFile?: string } = {},
): Promise<string> {
  const tree = await worktreeTree(copy, options.excludesFile);
  return git(copy, [
    'diff',
    '--no-ext-diff',
    '--no-textconv',
    '--no-color',
    ...(options.stat ? ['--stat'] : []),
    base,
    tree,
    '--',
  ]);
}
