import { accessSync, lstatSync, readdirSync, constants, type Dirent } from 'node:fs';
import { readProjectText } from '../common/project-file.js';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Found, ProtectCandidate, ProtectFacts, ProtectRoot } from './protect-plan.js';
import { GITDIR_RULES, LINKED_GITDIR_RULES, PRIVATE_RULE, type ProtectRule } from './protect-rules.js';

/** Largest git file (config, commondir, a `.git` link) read; a bigger one is not read at all. */
const MAX_GIT_FILE = 1024 * 1024;

/**
 * The I/O half of protected paths: what the host has at each protected path of the project (and
 * of its nested repositories, and of read-write `--volume` directories), for the pure planner
 * (protect/protect-plan.ts). Reads with lstat only: a symbolic link is reported, never followed.
 */

/** Bounds of the scan for nested repositories and worktrees (start-up time matters). */
export interface ScanLimits {
  /** Directory levels below the project searched for `.git` (default 6). */
  maxDepth: number;
  /** Directory entries read at most (default 20,000). */
  maxEntries: number;
  /** Nested repositories protected at most (default 32). */
  maxRepos: number;
}

/** The defaults of {@link ScanLimits}. */
export const DEFAULT_SCAN_LIMITS: ScanLimits = Object.freeze({ maxDepth: 6, maxEntries: 20_000, maxRepos: 32 });

/** Directories never searched for nested repositories: dependency and build trees. */
const SCAN_SKIP: ReadonlySet<string> = new Set([
  'node_modules',
  '.venv',
  'venv',
  '__pycache__',
  '.tox',
  '.cache',
  'target',
  '.next',
  '.gradle',
  '.terraform',
]);

function found(path: string): Found {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return 'symlink';
    if (st.isDirectory()) return 'dir';
    return st.isFile() ? 'file' : 'other';
  } catch {
    return 'absent';
  }
}

function listDir(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * The values of `key` in `section` (lower case; `includeif` matches `[includeIf "…"]`) of a git
 * config text, in order. A key may follow its section header on the same line (`[core] hooksPath = x`).
 */
function gitConfigValues(configText: string, section: string, key: string): string[] {
  let current = '';
  const values: string[] = [];
  for (const raw of configText.split('\n')) {
    let line = raw.trim();
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"(?:[^"\\]|\\.)*")?\s*\]/.exec(line);
    if (head) {
      current = (head[1] ?? '').toLowerCase();
      line = line.slice(head[0].length).trim();
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*=\s*(.*)$/.exec(line);
    if (current === section && kv && (kv[1] ?? '').toLowerCase() === key) {
      values.push(
        (kv[2] ?? '')
          .replace(/\s+[#;].*$/, '')
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
    }
  }
  return values;
}

/** `value` (absolute, or relative to `base`) as a path relative to `dir` when inside it (not `dir` itself). */
export function inside(value: string, base: string, dir: string): string | undefined {
  if (value === '' || value.startsWith('~')) return undefined;
  const rel = relative(dir, isAbsolute(value) ? value : join(base, value));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * `core.hooksPath` of a git config text when it names a directory inside the working tree
 * (`.husky`, `.githooks`): relative to the tree, or undefined.
 */
export function hooksPathIn(configText: string, worktreeDir: string): string | undefined {
  const value = gitConfigValues(configText, 'core', 'hookspath').at(-1);
  return value === undefined ? undefined : inside(value, worktreeDir, worktreeDir);
}

/**
 * The files a git config text includes (`[include] path`, `[includeIf "…"] path`) that lie inside
 * `rootDir`, relative to it: git on the host obeys what they say (a shared `../.gitconfig` in the
 * project is a common way to share settings), so they are protected like the config itself.
 * Relative include paths are relative to the config file's folder `configDir`.
 */
export function includePathsIn(configText: string, configDir: string, rootDir: string): string[] {
  const out: string[] = [];
  for (const section of ['include', 'includeif']) {
    for (const value of gitConfigValues(configText, section, 'path')) {
      const rel = inside(value, configDir, rootDir);
      if (rel !== undefined) out.push(rel);
    }
  }
  return out;
}

/** What a {@link walkProject} visitor says of a folder: `stop` the walk, or `prune` its folders. */
export type WalkAnswer = 'stop' | 'prune' | undefined;

/**
 * Walks the folders below `root` breadth first within `limits` (levels and entries; never into a
 * `.git` folder, a {@link SCAN_SKIP} one, or through a symbolic link), calling `visit` with each
 * folder (relative; '' for the root) and its entries. True when the walk was cut short by the
 * limits (not by a `stop`).
 */
export function walkProject(
  root: string,
  limits: ScanLimits,
  visit: (rel: string, items: readonly Dirent[]) => WalkAnswer,
): boolean {
  let entries = 0;
  let level: string[] = [''];
  for (let d = 0; d <= limits.maxDepth && level.length > 0; d++) {
    const next: string[] = [];
    for (const rel of level) {
      const items = listDir(rel === '' ? root : join(root, rel));
      entries += items.length;
      if (entries > limits.maxEntries) return true;
      const answer = visit(rel, items);
      if (answer === 'stop') return false;
      if (answer === 'prune') continue;
      for (const item of items) {
        if (item.isDirectory() && item.name !== '.git' && !SCAN_SKIP.has(item.name))
          next.push(rel === '' ? item.name : `${rel}/${item.name}`);
      }
    }
    if (d === limits.maxDepth && next.length > 0) return true;
    level = next;
  }
  return false;
}

/** Nested working trees (a `.git` directory or file) below `root`, relative, bounded by `limits`. */
export function findNestedRepos(
  root: string,
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
): { repos: string[]; truncated: boolean } {
  const repos: string[] = [];
  let full = false;
  const truncated = walkProject(root, limits, (rel, items) => {
    if (rel === '' || !items.some((item) => item.name === '.git')) return undefined;
    if (repos.length >= limits.maxRepos) {
      full = true;
      return 'stop';
    }
    repos.push(rel);
    return undefined;
  });
  return { repos, truncated: truncated || full };
}

/** Options of {@link discoverProtected}. */
export interface DiscoverOptions {
  /** Working tree rules (effectiveRules().worktree). */
  worktreeRules: readonly ProtectRule[];
  /** Canonical host directories of the run's read-write `--volume` bind mounts. */
  volumeDirs?: readonly string[];
  limits?: ScanLimits;
  /** Host file holding the git excludes of the stand-ins (written by the caller before the run). */
  gitExclude?: string;
  /** Where the project's private copy of `.claude/settings.local.json` lives (none: the file is protected read-only). */
  privateSettings?: string;
}

/**
 * What the host has at every protected path of the project (root, nested repositories, git
 * directories with their submodules' and linked worktrees' git directories, a `core.hooksPath`
 * inside the tree) and of each read-write volume directory (its root, the repositories in it, the
 * project when the volume holds it).
 */
export function discoverProtected(projectDir: string, options: DiscoverOptions): ProtectFacts {
  const notes: string[] = [];
  const project = newRoot(projectDir, true);
  if (options.privateSettings !== undefined) add(project, PRIVATE_RULE.path, PRIVATE_RULE, options.privateSettings);
  else add(project, PRIVATE_RULE.path, PRIVATE_RULE);
  addTree(project, '', options.worktreeRules, false);
  const nested = findNestedRepos(projectDir, options.limits ?? DEFAULT_SCAN_LIMITS);
  if (nested.truncated)
    notes.push(
      `The search for nested git repositories in ${projectDir} stopped early (too many files or levels): repositories deeper inside are not protected`,
    );
  // Nested trees: no file stubs (they would show as untracked files); directories are invisible to git.
  for (const repo of nested.repos) addTree(project, repo, options.worktreeRules, true);
  const roots: ProtectRoot[] = [finish(project)];
  for (const dir of options.volumeDirs ?? []) {
    if (dir === projectDir || found(dir) !== 'dir') continue;
    const root = newRoot(dir, false);
    addTree(root, '', options.worktreeRules, false);
    // The project itself when the volume holds it (--volume ~/code:/code for ~/code/app), and every repository in it.
    const held = inside(projectDir, dir, dir);
    if (held !== undefined) {
      // The project's own paths, with the project's stand-ins (the same files, made once).
      add(root, `${held}/${PRIVATE_RULE.path}`, PRIVATE_RULE);
      addTree(root, held, options.worktreeRules, false);
    }
    const inVolume = findNestedRepos(dir, options.limits ?? DEFAULT_SCAN_LIMITS);
    if (inVolume.truncated)
      notes.push(
        `The search for git repositories in the volume ${dir} stopped early (too many files or levels): repositories deeper inside are not protected`,
      );
    for (const repo of inVolume.repos) addTree(root, repo, options.worktreeRules, true);
    if (held !== undefined) for (const c of root.candidates) if (c.path.startsWith(`${held}/`)) c.mayStub = true;
    roots.push(finish(root));
  }
  return {
    roots,
    ...(options.gitExclude === undefined ? {} : { gitExclude: options.gitExclude }),
    ...(notes.length > 0 ? { notes } : {}),
  };
}

interface Building extends ProtectRoot {
  seen: Set<string>;
}

function newRoot(hostDir: string, stubs: boolean): Building {
  return { hostDir, stubs, candidates: [], ancestors: {}, seen: new Set() };
}

/**
 * True when this process may create `path` (its nearest existing folder is writable). A rootless
 * user's project they cannot write: no stand-in is possible, and the session cannot create the
 * path either (it acts as that user).
 */
function creatable(hostDir: string, path: string): boolean {
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const dir = join(hostDir, ...parts.slice(0, i));
    if (found(dir) === 'absent') continue;
    try {
      accessSync(dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }
  return false;
}

function add(root: Building, path: string, rule: Pick<ProtectRule, 'kind' | 'stub'>, privateSource?: string): void {
  if (root.seen.has(path)) return;
  root.seen.add(path);
  const what = found(join(root.hostDir, path));
  const stubbable = what !== 'absent' || rule.stub === undefined || !root.stubs || creatable(root.hostDir, path);
  root.candidates.push({
    path,
    rule: stubbable ? rule : { kind: rule.kind },
    found: what,
    ...(privateSource === undefined || !stubbable ? {} : { privateSource }),
  } satisfies ProtectCandidate);
}

function addTree(root: Building, tree: string, rules: readonly ProtectRule[], nested: boolean): void {
  const at = (p: string): string => (tree === '' ? p : `${tree}/${p}`);
  for (const r of rules) add(root, at(r.path), nested && r.kind === 'file' ? { kind: r.kind } : r);
  // Claude Code's local settings of a nested tree or a volume: read-only where they exist (the project's own are private).
  add(root, at(PRIVATE_RULE.path), { kind: 'file' });
  const gitPath = at('.git');
  const git = found(join(root.hostDir, gitPath));
  if (git === 'file' || git === 'symlink') add(root, gitPath, { kind: 'file' });
  if (git === 'file') {
    // A submodule or linked worktree: its core.hooksPath (in the git directory the file names) counts too.
    const link = /^gitdir:\s*(.+?)\s*$/m.exec(readProjectText(join(root.hostDir, gitPath), MAX_GIT_FILE) ?? '')?.[1];
    const treeDir = join(root.hostDir, tree);
    const gitdir = link === undefined ? undefined : inside(link, treeDir, root.hostDir);
    // A linked worktree's settings live in the common git directory (its commondir file).
    const common =
      gitdir === undefined ? undefined : readProjectText(join(root.hostDir, gitdir, 'commondir'), MAX_GIT_FILE)?.trim();
    const configDir =
      common === undefined || gitdir === undefined
        ? gitdir
        : (inside(common, join(root.hostDir, gitdir), root.hostDir) ?? gitdir);
    const config =
      configDir === undefined ? undefined : readProjectText(join(root.hostDir, configDir, 'config'), MAX_GIT_FILE);
    const hooks = config === undefined ? undefined : hooksPathIn(config, treeDir);
    if (hooks !== undefined) add(root, at(hooks), { kind: 'dir', stub: '' });
  }
  if (git !== 'dir') return;
  const gitdirs = submoduleGitdirs(root.hostDir, gitPath);
  for (const gd of gitdirs) for (const r of GITDIR_RULES) add(root, `${gd}/${r.path}`, r);
  for (const d of listDir(join(root.hostDir, gitPath, 'worktrees'))) {
    if (d.isDirectory()) for (const r of LINKED_GITDIR_RULES) add(root, `${gitPath}/worktrees/${d.name}/${r.path}`, r);
  }
  const config = readProjectText(join(root.hostDir, gitPath, 'config'), MAX_GIT_FILE);
  const hooks = config === undefined ? undefined : hooksPathIn(config, join(root.hostDir, tree));
  if (hooks !== undefined) add(root, at(hooks), { kind: 'dir', stub: '' });
  // Files the git directories' configs include from inside the root (and what those include).
  const configs = gitdirs.flatMap((gd) => [`${gd}/config`, `${gd}/config.worktree`]);
  for (let i = 0; i < configs.length && i < 64; i++) {
    const path = configs[i] ?? '';
    const text = readProjectText(join(root.hostDir, path), MAX_GIT_FILE);
    if (text === undefined) continue;
    for (const inc of includePathsIn(text, dirname(join(root.hostDir, path)), root.hostDir)) {
      if (configs.includes(inc)) continue;
      add(root, inc, { kind: 'file', stub: '' });
      configs.push(inc);
    }
  }
}

/** Names a git directory holds (any one marks a submodule's git directory, even a partial one). */
const GITDIR_MARKS = ['HEAD', 'config', 'hooks', 'objects', 'refs'];

/**
 * The git directory `gitPath` and its submodules' git directories, nested (.git/modules/a/modules/b).
 * A submodule's name may hold slashes (`git submodule add URL libs/foo` names it `libs/foo`, git
 * directory `.git/modules/libs/foo`): a folder under `modules/` without git's own entries is
 * searched further down. Bounded: 64 git directories, 256 folders looked at.
 */
export function submoduleGitdirs(hostDir: string, gitPath: string): string[] {
  const gitdirs = [gitPath];
  let looked = 0;
  for (let i = 0; i < gitdirs.length && gitdirs.length < 64; i++) {
    const pending = [`${gitdirs[i] ?? ''}/modules`];
    while (pending.length > 0 && looked < 256 && gitdirs.length < 64) {
      const dir = pending.shift() ?? '';
      for (const d of listDir(join(hostDir, dir))) {
        if (!d.isDirectory()) continue;
        looked++;
        const child = `${dir}/${d.name}`;
        const names = new Set(listDir(join(hostDir, child)).map((e) => e.name));
        if (GITDIR_MARKS.some((m) => names.has(m))) gitdirs.push(child);
        else pending.push(child);
      }
    }
  }
  return gitdirs;
}

function finish(root: Building): ProtectRoot {
  for (const c of root.candidates) {
    const parts = c.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const anc = parts.slice(0, i).join('/');
      if (!(anc in root.ancestors)) root.ancestors[anc] = found(join(root.hostDir, anc));
    }
  }
  return { hostDir: root.hostDir, stubs: root.stubs, candidates: root.candidates, ancestors: root.ancestors };
}

/** Host directories of a plan's read-write `--volume` bind mounts (not named volumes). */
export function rwVolumeDirs(
  mounts: readonly { source: string; readOnly?: boolean; volume?: string; origin: string }[],
): string[] {
  return mounts
    .filter((m) => (m.origin === 'cli' || m.origin === 'config') && m.volume === undefined && m.readOnly !== true)
    .map((m) => m.source);
}
