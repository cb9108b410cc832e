import { posix } from 'node:path';
import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { DEFAULT_WORKDIR } from '../config/defaults.js';

/**
 * Where the project appears inside the container, as in mino 1.6: a configured
 * `container.workdir` other than `/workspace` is used as is; otherwise `/<project folder name>`,
 * falling back to `/workspace` when that name would hide a system or reserved directory.
 *
 * Beyond mino 1.6 (decided here):
 * - the derived name also falls back to `/workspace` when it is not a safe path component: empty
 *   (project `/`), starting with `.` (hidden root directories, `.`/`..`), or containing `:`, `,`,
 *   `/`, `\`, or a control character (`:`/`,` would break `-v host:ctr` syntax; mino 1.6 passed
 *   them through and podman failed). Spaces and non-ASCII letters are kept.
 * - a configured workdir must be absolute, normalised, must not be `/`, must not contain `:`, `,`
 *   or control characters, and must not be exactly one of the blocklisted top-level directories
 *   (mounting the project over `/usr` or `/etc` breaks the container); subdirectories such as
 *   `/home/developer/app` are fine.
 */

/** The fallback workdir, also the image's `WORKDIR` and mino's config default. */

/**
 * Top-level directory names never used as the derived workdir (mino 1.6's list, exact and
 * case-sensitive, since the container filesystem is): system directories, plus `cache`,
 * `workspace` and `ssh-agent`, which mino reserves for its own mounts.
 */
export const WORKDIR_BLOCKLIST: readonly string[] = Object.freeze([
  'bin',
  'dev',
  'etc',
  'home',
  'lib',
  'lib64',
  'opt',
  'proc',
  'root',
  'run',
  'sbin',
  'sys',
  'tmp',
  'usr',
  'var',
  'cache',
  'workspace',
  'ssh-agent',
]);

// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f:,/\\]/;

/** True when `name` can be used as the single path component `/<name>` of the derived workdir. */
export function isSafeFolderName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.') && !UNSAFE_CHARS.test(name) && !WORKDIR_BLOCKLIST.includes(name);
}

/**
 * The container workdir for `projectDir` (absolute host path): `configured` when given and not
 * `/workspace`, else `/<basename>` or {@link DEFAULT_WORKDIR}. Throws a MinoError for an unusable
 * configured value.
 */
export function resolveWorkdir(projectDir: string, configured?: string): string {
  if (configured !== undefined && configured !== DEFAULT_WORKDIR) return checkConfiguredWorkdir(configured);
  const name = posix.basename(projectDir);
  return isSafeFolderName(name) ? `/${name}` : DEFAULT_WORKDIR;
}

function checkConfiguredWorkdir(dir: string): string {
  const fail = (why: string): never => {
    throw new MinoError(`Invalid container.workdir '${printable(dir)}': ${why}`, {
      hint: `Use an absolute path such as /src/app, or remove the setting to use /<project folder name>`,
    });
  };
  if (!dir.startsWith('/')) fail('not an absolute path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:,]/.test(dir)) fail("contains ':', ',' or a control character");
  if (dir === '/') fail('the project cannot be mounted over the container root');
  if (posix.normalize(dir) !== dir || dir.endsWith('/'))
    fail("not a normalised path (no '.', '..', '//' or trailing '/')");
  const top = dir.slice(1);
  if (!top.includes('/') && WORKDIR_BLOCKLIST.includes(top))
    fail(`mounting the project over /${top} would hide a system or reserved directory`);
  return dir;
}
