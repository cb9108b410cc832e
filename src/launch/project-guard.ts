import { posix } from 'node:path';
import { MinoError } from '../common/errors.js';
import { printable } from '../runtime/validate.js';

/**
 * Refuses project directories that would hand the agent far more than one project. mino 1.6 had
 * no guard: `mino run` from `$HOME` mounted the whole home directory (SSH keys, cloud credentials)
 * read-write. The project directory is mounted read-write, so `/`, `$HOME` and any parent of
 * `$HOME` are refused unless the user passes `--allow-home`.
 */

/** Hint shared by every refusal. */
const ALLOW_HOME_HINT =
  'The project directory is mounted read-write into the container. Run mino from a project folder ' +
  '(or pass -p <dir>), or pass --allow-home to mount it anyway';

/** True for an absolute, normalised path without a trailing slash (except `/` itself). */
export function isCanonicalAbsolute(path: string): boolean {
  return path.startsWith('/') && posix.normalize(path) === path && (path === '/' || !path.endsWith('/'));
}

/**
 * Checks that `projectDir` is a canonical absolute path podman can bind-mount (no `:`, `,` or
 * control characters) and not `/`, `homeDir` or a parent of
 * `homeDir` (unless `allowHome`). Returns `projectDir`; throws a MinoError otherwise.
 */
export function checkProjectDir(projectDir: string, homeDir: string, allowHome: boolean): string {
  if (!isCanonicalAbsolute(projectDir)) {
    throw new MinoError(`Project directory '${printable(projectDir)}' is not a canonical absolute path`, {
      hint: 'Resolve the directory (realpath) before planning the run',
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:,]/.test(projectDir)) {
    throw new MinoError(`Project directory '${printable(projectDir)}' contains ':', ',' or a control character, which podman cannot mount`, {
      hint: 'Rename the directory, or move the project to a path without those characters',
    });
  }
  if (!isCanonicalAbsolute(homeDir)) {
    throw new MinoError(`Home directory '${printable(homeDir)}' is not a canonical absolute path`, {
      hint: 'Set HOME to an absolute path',
    });
  }
  if (allowHome) return projectDir;
  if (projectDir === '/') {
    throw new MinoError('Refusing to use / as the project directory', { hint: ALLOW_HOME_HINT });
  }
  if (projectDir === homeDir) {
    throw new MinoError(`Refusing to use your home directory ${printable(projectDir)} as the project directory`, {
      hint: ALLOW_HOME_HINT,
    });
  }
  if (homeDir.startsWith(`${projectDir}/`)) {
    throw new MinoError(
      `Refusing to use ${printable(projectDir)} as the project directory: it contains your home directory ${printable(homeDir)}`,
      { hint: ALLOW_HOME_HINT },
    );
  }
  return projectDir;
}
