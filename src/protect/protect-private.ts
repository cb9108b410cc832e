import { createHash } from 'node:crypto';
import { lchownSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { readProjectText } from '../common/project-file.js';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';

/**
 * The session's private copy of Claude Code's `.claude/settings.local.json` (see PRIVATE_RULE in
 * protect/protect-rules.ts): one per project in mino's data directory, seeded from the host's
 * file the first time, mounted read-write over it in every session of the project, never written
 * back.
 */

const MAX_SEED_BYTES = 1024 * 1024;

/**
 * Where the private copy of `projectDir` lives under `dataDir` (mino's data directory: the files
 * sessions mount stay apart from the state directory, whose filling up must not stop a session
 * from starting).
 */
export function privateSettingsPath(dataDir: string, projectDir: string): string {
  const key = createHash('sha256').update(projectDir).digest('hex').slice(0, 24);
  return join(dataDir, 'protect', 'private', key, 'settings.local.json');
}

/**
 * Creates the private copy at `path` when it does not exist yet: the host file's content, else
 * `{}`. Owned by `owner` (the project's owner: the session's user writes it as that owner).
 */
export function seedPrivateCopy(path: string, hostFile: string, owner: { uid: number; gid: number }): void {
  try {
    if (lstatSync(path).isFile()) return;
  } catch {
    // absent: seed it
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, readProjectText(hostFile, MAX_SEED_BYTES) ?? '{}\n', { mode: 0o600 });
  lchownSync(path, owner.uid, owner.gid); // mino's own directory, but never follow a link
}

/** Where the git excludes file of the stand-ins lives (one per data directory). */
export function gitExcludePath(dataDir: string): string {
  return join(dataDir, 'protect', 'git-exclude');
}

/** Writes the git excludes file when its content differs (readable by every session's user). */
export function writeGitExclude(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) return;
  } catch {
    // absent: write it
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileAtomic(path, text, { mode: 0o644 });
}
