import {
  closeSync,
  fchownSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeSync,
  type Dirent,
} from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SCAN_LIMITS, inside, submoduleGitdirs, walkProject, type ScanLimits } from './protect-discovery.js';
import { filterGitConfig } from './git-config-filter.js';

/**
 * Git repositories a session made inside the project, made harmless on this machine. Protected
 * paths (protect-rules.ts) keep a session from changing the hooks and config of the repositories
 * that exist when it starts (within bounds); a repository it creates has none of that: its own
 * `sub/.git/hooks/post-checkout` or `core.fsmonitor` runs as you when git works there, and git
 * does work there unasked — `git status` in the project recurses into a nested repository the
 * session added to the index (`git add sub`). So after a session, every git directory that was
 * not there when it started (a `.git` folder, the folder a `.git` file names inside the project,
 * a submodule's `.git/modules/*`, a linked worktree's `.git/worktrees/*`, a bare repository's
 * folder: `HEAD`, `objects/`, `refs/`) has its hooks folder moved aside when it holds anything
 * but git's `*.sample` files, and its `config`/`config.worktree` reduced to settings that run
 * nothing (git-config-filter.ts), the original kept beside it. Nothing is deleted; symbolic links
 * are never followed (one where a hooks folder or config is expected is moved aside too).
 *
 * The search has the bounds of the protected paths' (6 levels, 20,000 entries; dependency trees
 * skipped): a repository deeper than that is not looked at, as it is not protected either. A git
 * directory that was there when the session started is left as it is (see defuseNewRepos): one
 * the protected paths do not cover (a bare repository, one past their 32 repositories) and that
 * the session changed in place is not caught.
 */

/**
 * Git directories of a project (relative paths), each with its folder's identity (inode and birth
 * time): a git directory that was there when the session started is never changed afterwards.
 */
export type RepoBaseline = Record<string, string>;

/** Names whose presence makes a folder a (bare) git directory to git's discovery. */
function looksLikeGitDir(items: readonly Dirent[]): boolean {
  const kinds = new Map(items.map((d) => [d.name, d]));
  return (
    kinds.get('HEAD')?.isFile() === true &&
    kinds.get('objects')?.isDirectory() === true &&
    kinds.get('refs')?.isDirectory() === true
  );
}

function listDir(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Which folder `path` is: inode and birth time (a folder removed and made again may get the same
 * inode number back; its birth time differs where the file system keeps one).
 */
function identity(path: string): string {
  const st = lstatSync(path);
  return `${st.ino}.${st.birthtimeMs}`;
}

/** The git directory a `.git` file names, relative to `root`, when inside it. */
function linkedGitDir(root: string, treeRel: string): string | undefined {
  let text: string;
  try {
    const path = join(root, treeRel, '.git');
    if (lstatSync(path).size > 4096) return undefined;
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const link = /^gitdir:\s*(.+?)\s*$/m.exec(text)?.[1];
  return link === undefined ? undefined : inside(link, join(root, treeRel), root);
}

/**
 * Every git directory under `root` (the project's own `.git` included), with its identity, within
 * `limits` (levels and entries; the repository count bound does not apply).
 */
export function gitDirsOf(root: string, limits: ScanLimits = DEFAULT_SCAN_LIMITS): RepoBaseline {
  const dirs: RepoBaseline = {};
  const addWithInner = (gitPath: string): void => {
    for (const gd of submoduleGitdirs(root, gitPath)) {
      if (!isRealDir(join(root, gd))) continue;
      dirs[gd] = identity(join(root, gd));
      for (const w of listDir(join(root, gd, 'worktrees'))) {
        const wt = `${gd}/worktrees/${w.name}`;
        if (w.isDirectory()) dirs[wt] = identity(join(root, wt));
      }
    }
  };
  walkProject(root, limits, (rel, items) => {
    if (rel !== '' && looksLikeGitDir(items)) {
      addWithInner(rel);
      return 'prune';
    }
    const git = items.find((item) => item.name === '.git');
    if (git?.isDirectory()) addWithInner(rel === '' ? '.git' : `${rel}/.git`);
    else if (git?.isFile()) {
      const linked = linkedGitDir(root, rel);
      if (linked !== undefined && isRealDir(join(root, linked))) addWithInner(linked);
    }
    return undefined;
  });
  return dirs;
}

/** What {@link defuseNewRepos} did to one git directory. */
export interface DefusedRepo {
  /** The git directory, relative to the project. */
  gitDir: string;
  /** Hooks found (names), and where their folder went. */
  hooks?: { names: string[]; movedTo: string };
  /** Each config file reduced: the settings left out, and where the original went. */
  configs: { file: string; dropped: string[]; movedTo: string }[];
}

/** `path` as a free sibling name `path.mino-disabled`, `-2`, `-3`… */
function asideName(path: string): string {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? `${path}.mino-disabled` : `${path}.mino-disabled-${i}`;
    try {
      lstatSync(candidate);
    } catch {
      return candidate;
    }
  }
}

/** True when `rel` under `root` is reached through real folders only (no symbolic link on the way). */
function realPathIs(root: string, rel: string): boolean {
  try {
    return realpathSync(join(root, rel)) === join(realpathSync(root), rel);
  } catch {
    return false;
  }
}

function hooksIn(root: string, gitDir: string): DefusedRepo['hooks'] {
  const hooks = join(root, gitDir, 'hooks');
  let names: string[];
  try {
    const st = lstatSync(hooks);
    names = st.isDirectory() ? readdirSync(hooks).filter((n) => !n.endsWith('.sample')) : ['(not a folder)'];
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  const to = asideName(hooks);
  renameSync(hooks, to);
  return { names: names.sort(), movedTo: to.slice(root.length + 1) };
}

function configIn(root: string, gitDir: string, file: string): DefusedRepo['configs'][number] | undefined {
  const path = join(root, gitDir, file);
  let text = '';
  let dropped: string[];
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = lstatSync(path);
    owner = { uid: st.uid, gid: st.gid };
    if (!st.isFile() || st.size > 1024 * 1024) dropped = ['(not a small regular file)'];
    else {
      // core.worktree relative to the git directory (git's rule), inside the project only.
      const filtered = filterGitConfig(
        readFileSync(path, 'utf8'),
        (value) => inside(value, join(root, gitDir), root) !== undefined,
      );
      dropped = filtered.dropped;
      text = filtered.text;
    }
  } catch {
    return undefined;
  }
  if (dropped.length === 0) return undefined;
  const to = asideName(path);
  renameSync(path, to);
  if (text !== '') {
    // O_EXCL: never through a symbolic link planted at the path meanwhile.
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, text);
      if ((process.getuid?.() ?? 1) === 0 && owner) fchownSync(fd, owner.uid, owner.gid);
    } finally {
      closeSync(fd);
    }
  }
  return { file: `${gitDir}/${file}`, dropped, movedTo: to.slice(root.length + 1) };
}

/**
 * Makes harmless each git directory of `root` that `before` does not have (see the module
 * comment). One that was there is left as it is, whatever changed in it: its config and hooks are
 * protected during the session (within the protected paths' bounds), and what changed there came
 * from this machine (your own `git config`, a hooks installer). Errors on one directory are
 * reported in `errors` and do not stop the others.
 */
export function defuseNewRepos(
  root: string,
  before: RepoBaseline,
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
): { defused: DefusedRepo[]; errors: string[] } {
  const defused: DefusedRepo[] = [];
  const errors: string[] = [];
  const now = gitDirsOf(root, limits);
  for (const [gitDir, id] of Object.entries(now)) {
    if (before[gitDir] === id) continue;
    if (!realPathIs(root, gitDir)) continue;
    try {
      const hooks = hooksIn(root, gitDir);
      const configs = ['config', 'config.worktree']
        .map((f) => configIn(root, gitDir, f))
        .filter((c) => c !== undefined);
      if (hooks || configs.length > 0) defused.push({ gitDir, ...(hooks ? { hooks } : {}), configs });
    } catch (err) {
      errors.push(`${join(root, gitDir)}: ${(err as Error).message}`);
    }
  }
  return { defused, errors };
}

/** Warnings for people (without the `Warning: ` prefix) about what {@link defuseNewRepos} did in `root`. */
export function describeDefused(root: string, result: { defused: DefusedRepo[]; errors: string[] }): string[] {
  const lines: string[] = [];
  for (const r of result.defused) {
    const parts: string[] = [];
    if (r.hooks) parts.push(`its hooks (${r.hooks.names.join(', ')}) are now in ${r.hooks.movedTo}`);
    for (const c of r.configs)
      parts.push(`${c.file} no longer has ${c.dropped.join(', ')} (the whole file is kept as ${c.movedTo})`);
    lines.push(
      `the session made a git repository at ${join(root, r.gitDir)}; git on this machine would run what it says, so mino turned that off: ${parts.join('; ')}. Look at them before you put them back.`,
    );
  }
  for (const e of result.errors)
    lines.push(
      `Warning: a git repository the session made could not be checked: ${e}; look at its hooks and config before you run git there`,
    );
  return lines;
}
