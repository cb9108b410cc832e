import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { MinoError } from '../../common/errors.js';
import { projectTemplate } from '../../config/config-template.js';
import { detectLayers } from '../../config/detect-layers.js';
import { LOCAL_CONFIG_NAME } from '../../config/discover-config.js';
import { applyGlobalOptions } from '../global-options.js';
import { projectDirOf } from '../config-options.js';

/** `mino init [-f] [-p DIR]`: a commented .mino.toml for a project. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Write a commented .mino.toml for a project (layers suggested from its lockfiles)')
    .option('-f, --force', 'overwrite an existing .mino.toml')
    .option('-p, --project <dir>', 'project directory (default: current directory)')
    .option('--path <dir>', 'same as --project (mino 1.6)')
    .action((opts: { force?: boolean; project?: string; path?: string }, cmd: Command) => {
      applyGlobalOptions(cmd);
      const dir = projectDirOf(opts.project ?? opts.path);
      const file = join(dir, LOCAL_CONFIG_NAME);
      if (existsSync(file) && !opts.force) {
        throw new MinoError(`${file} already exists`, {
          hint: "Use 'mino init -f' to overwrite it, or 'mino config set --local KEY VALUE' to change one key",
        });
      }
      const suggested = detectLayers(dir);
      writeFileAtomic(file, projectTemplate(suggested), { mode: 0o644 });
      process.stdout.write(`Wrote ${file}\n`);
      if (suggested.length > 0) {
        process.stdout.write(
          `Suggested layers (commented out): ${suggested.map((s) => `${s.layer} (${s.file})`).join(', ')}\n`,
        );
      }
    });
}
