import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

/**
 * Where working copies live: `<data dir>/branches/<repo key>/<NAME>/` holds the copy itself (a
 * folder named like the project, so the session's workdir is the usual one), `copy.json` (what
 * mino knows of it) and `.mino-origin/objects`, a link to the host repository's object store.
 *
 * The copy borrows the host's objects through `.git/objects/info/alternates` holding the RELATIVE
 * path {@link ALTERNATES_LINE}: from `<copy>/.git/objects` it leads to `<NAME>/.mino-origin/objects`
 * on the host and, in the session where the copy is the workdir `/<project>`, to
 * {@link ORIGIN_TARGET}, where the host's object store is mounted read-only. One file, right in
 * both places; nothing of the host's `.git` but its objects is ever visible to the agent.
 */

/** Container path of the host repository's object store in a branch session (read-only). */
export const ORIGIN_TARGET = '/.mino-origin/objects';

/** The alternates line of every working copy (see the module comment). */
export const ALTERNATES_LINE = '../../../.mino-origin/objects';

/** The folder of all working copies of one host repository (keyed by its git directory). */
function repoCopiesDir(dataDir: string, commonDir: string): string {
  return join(dataDir, 'branches', createHash('sha256').update(commonDir).digest('hex').slice(0, 12));
}

/** The folders of one working copy. */
export interface CopyPaths {
  /** `<data>/branches/<key>/<NAME>`. */
  base: string;
  /** The working copy (the session's project directory). */
  copy: string;
  /** Its record. */
  meta: string;
  /** The link to the host's objects, as the alternates line finds it. */
  originLink: string;
}

/** The paths of the working copy of branch `name` of the project at `top`. */
export function copyPaths(dataDir: string, commonDir: string, top: string, name: string): CopyPaths {
  const base = join(repoCopiesDir(dataDir, commonDir), name);
  return copyPathsIn(base, basename(top) || 'project');
}

/** The paths of a working copy whose base folder and project folder name are known. */
export function copyPathsIn(base: string, folder: string): CopyPaths {
  return {
    base,
    copy: join(base, folder),
    meta: join(base, 'copy.json'),
    originLink: join(base, '.mino-origin', 'objects'),
  };
}

/**
 * The private copy of Claude Code's local settings (protect/protect-private.ts) of a branch
 * session: in the working copy's base folder, beside the copy (not keyed by the copy's path, so a
 * warm container's folder can hold it too, see warm-copy.ts); it goes with the copy.
 */
export function copyPrivateSettings(copy: string): string {
  return join(dirname(copy), '.mino-private', 'settings.local.json');
}

/**
 * The global git configuration of mino's own fetches from a working copy (`<data>/branches/
 * .gitconfig`): `safe.directory = *`, so mino as root can read a copy that belongs to the
 * project's owner. A file, because git hands `-c` values to the upload-pack of a local fetch
 * only through this (it clears GIT_CONFIG_PARAMETERS and GIT_CONFIG_COUNT for it).
 */
export function fetchConfigFile(base: string): string {
  const path = join(dirname(dirname(base)), '.gitconfig');
  if (!existsSync(path)) writeFileAtomic(path, '[safe]\n\tdirectory = *\n', { durable: false });
  return path;
}
