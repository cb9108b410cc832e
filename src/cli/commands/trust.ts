import type { Command } from 'commander';
import { revokeProject, trustProject } from '../../config/trust-project.js';
import { applyGlobalOptions } from '../global-options.js';
import { projectDirOf } from '../config-options.js';

/** `mino trust [--revoke] [-p DIR]`: trust (or forget) a project's .mino.toml and .mino/layers. */
export function registerTrust(program: Command): void {
  program
    .command('trust')
    .description("Trust the project's current .mino.toml and .mino/layers (review them first)")
    .option('-p, --project <dir>', 'project directory (default: current directory)')
    .option('--revoke', 'forget the trust instead')
    .addHelpText(
      'after',
      `
Trust is pinned to the exact content: any change to .mino.toml or to a file under .mino/layers
needs trust again. Without it, mino asks on a terminal, and skips the project's files elsewhere
(or fails with --strict-local). 'mino config set --local' keeps trust for its own edits.`,
    )
    .action((opts: { project?: string; revoke?: boolean }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const dir = projectDirOf(opts.project);
      if (opts.revoke) {
        const n = revokeProject(dir);
        process.stdout.write(n > 0 ? `Revoked trust for ${n} item(s) of ${dir}\n` : `Nothing of ${dir} was trusted\n`);
        return;
      }
      const items = trustProject(dir);
      if (items.length === 0) {
        process.stdout.write(`Nothing to trust: ${dir} has no .mino.toml (here or above) and no .mino/layers\n`);
        return;
      }
      for (const item of items) {
        process.stdout.write(`Trusted ${item.path}\n`);
        for (const d of item.details) process.stdout.write(`  ${item.kind === 'layers' ? 'layer ' : ''}${d}\n`);
      }
    });
}
