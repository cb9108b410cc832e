import { git } from '../host/git.js';
import { scratchObjects, worktreeTree } from './copy-state.js';

/**
 * `mino diff`: what a working copy holds against its base, committed and uncommitted alike (new
 * files too), as git prints it. External diff and text conversion programs stay off (they would
 * run the agent's choice of program on the host); the copy is only read (new objects go to a
 * temporary folder), so a running session's copy can be diffed.
 */
export async function copyDiff(
  copy: string,
  base: string,
  options: { stat?: boolean; excludesFile?: string } = {},
): Promise<string> {
  return scratchObjects(copy, async (env) => {
    const tree = await worktreeTree(copy, options.excludesFile, env);
    const args = ['diff', '--no-ext-diff', '--no-textconv', '--no-color', ...(options.stat ? ['--stat'] : [])];
    return git(copy, [...args, base, tree, '--'], { env });
  });
}
