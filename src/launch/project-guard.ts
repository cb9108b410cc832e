import { posix } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { volumeSourceRefusal, type UserHome, type VolumeAllowance } from './volume-guard.js';

/**
 * Refuses project directories that would hand the agent far more than one project. mino 1.6 had
 * no guard: `mino run` from `$HOME` mounted the whole home directory (SSH keys, cloud credentials)
 * read-write. The project directory is mounted read-write and gets the guard of every volume
 * (volume-guard.ts): `/`, `$HOME`, its parents and other users' homes need `--allow-home`, system
 * directories (`/etc`, `/run`, …) `--allow-system-paths`. A refusal is a usage error (exit 2).
 */

/** True for an absolute, normalised path without a trailing slash (except `/` itself). */
export function isCanonicalAbsolute(path: string): boolean {
  return path.startsWith('/') && posix.normalize(path) === path && (path === '/' || !path.endsWith('/'));
}

/**
 * Checks that `projectDir` is a canonical absolute path podman can bind-mount (no `:`, `,` or
 * control characters) that the host path guard lets through (volume-guard.ts, with `allow` and
 * the passwd database's `otherHomes`). Returns `projectDir`; throws a MinoError otherwise.
 */
export function checkProjectDir(
  projectDir: string,
  homeDir: string,
  allow: VolumeAllowance,
  otherHomes: readonly UserHome[] = [],
  minoDirs: readonly string[] = [],
): string {
  if (!isCanonicalAbsolute(projectDir)) {
    throw new MinoError(`Project directory '${printable(projectDir)}' is not a canonical absolute path`, {
      hint: 'Resolve the directory (realpath) before planning the run',
    });
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:,]/.test(projectDir)) {
    throw new MinoError(
      `Project directory '${printable(projectDir)}' contains ':', ',' or a control character, which podman cannot mount`,
      {
        hint: 'Rename the directory, or move the project to a path without those characters',
      },
    );
  }
  if (!isCanonicalAbsolute(homeDir)) {
    throw new MinoError(`Home directory '${printable(homeDir)}' is not a canonical absolute path`, {
      hint: 'Set HOME to an absolute path',
    });
  }
  const refusal = volumeSourceRefusal(projectDir, homeDir, allow, otherHomes, minoDirs);
  if (refusal === undefined) return projectDir;
  throw new UsageError(
    `Refusing to use ${printable(projectDir)} as the project directory: ${refusal.why}`,
    'The project directory is mounted read-write into the container. Run mino from a project folder (or pass -p <dir>)' +
      `${refusal.flag ? `, or pass ${refusal.flag} to mount it anyway` : ''}`,
  );
}
