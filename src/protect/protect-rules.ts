import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * What mino protects inside every session: the files and directories that something on the host
 * later executes or obeys (git hooks and config, direnv, editors' workspace settings, agents'
 * project settings, shell rc files). Inside the sandbox they are readable but not writable, and
 * cannot be created, replaced, renamed over or removed (see protect-plan.ts for how).
 */

/** A protected entry is a file or a directory (what a stub for it would be). */
export type EntryKind = 'file' | 'dir';

/** One protected path, relative to a working tree root or to a git directory. */
export interface ProtectRule {
  /** Relative path, `/`-separated, no `.`/`..` components. */
  path: string;
  kind: EntryKind;
  /**
   * When the path does not exist yet: the content of the file mino creates in its place for the
   * session (a harmless stand-in every host tool accepts), `''` for an empty directory, or
   * undefined to leave it absent (unprotected until it exists).
   */
  stub?: string;
}

const dir = (path: string): ProtectRule => ({ path, kind: 'dir', stub: '' });
const file = (path: string, stub?: string): ProtectRule =>
  stub === undefined ? { path, kind: 'file' } : { path, kind: 'file', stub };

/**
 * Shell rc files a dotfiles repository may hold (a home symlink into the project makes them run).
 * Protected when they exist; absent ones are not created: no host program reads a project's rc
 * file unless it is your home, which mino refuses as a project.
 */
const SHELL_RC_FILES: readonly string[] = Object.freeze([
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.cshrc',
  '.tcshrc',
]);

/** Paths protected in every working tree root (the project, each nested repository, each rw volume). */
export const WORKTREE_RULES: readonly ProtectRule[] = Object.freeze([
  file('.gitmodules', ''),
  file('.envrc', ''),
  file('.mcp.json', '{}\n'),
  file('.claude/settings.json', '{}\n'),
  dir('.claude/commands'),
  dir('.claude/agents'),
  dir('.claude/hooks'),
  dir('.vscode'),
  dir('.idea'),
  dir('.devcontainer'),
  ...SHELL_RC_FILES.map((name) => file(name)),
]);

/**
 * Claude Code's per-project local settings: the host's Claude Code obeys them (hooks, allowed
 * commands), and Claude Code inside saves "don't ask again" answers there. The session gets a
 * private copy (seeded from the host's file when it first runs in the project, kept in mino's
 * state directory) mounted over it, never written back. An absent host file gets a `{}` stand-in.
 */
export const PRIVATE_RULE: ProtectRule = Object.freeze(file('.claude/settings.local.json', '{}\n'));

/**
 * Paths protected in every git directory (`.git`, and `.git/modules/*` of submodules). An absent
 * `commondir` gets `.` (the git directory itself, what git assumes without one): written by the
 * agent, it would move the repository's config and hooks to a directory of its choosing. An
 * absent `config.worktree` gets an empty file (an empty config; git reads it only with
 * `extensions.worktreeConfig`, and then would obey what the agent wrote there).
 */
export const GITDIR_RULES: readonly ProtectRule[] = Object.freeze([
  dir('hooks'),
  file('config'),
  dir('info'),
  file('commondir', '.\n'),
  file('config.worktree', ''),
]);

/**
 * Paths protected in the git directory of a linked worktree (`.git/worktrees/*`). An absent
 * `locked` gets a stand-in: the session sees the project at another path than the host, so every
 * worktree's recorded path is missing inside, and `git worktree prune` (also run by `git gc`)
 * would delete the host worktrees' HEAD, index and logs; git never prunes a locked worktree.
 */
export const LINKED_GITDIR_RULES: readonly ProtectRule[] = Object.freeze([
  file('commondir'),
  file('config.worktree', ''),
  file('locked', 'in use by a mino session (removed when it ends)\n'),
]);

/**
 * Checks a user-given protected path (config `protect.paths`/`protect.unprotect`): relative,
 * `/`-separated, no `.` or `..` component, no NUL or control character. A trailing `/` means a
 * directory. Returns the normalised path (no trailing `/`); throws a MinoError naming the value.
 */
export function checkProtectPath(value: string): { path: string; kind: EntryKind } {
  const problem = protectPathProblem(value);
  if (problem !== undefined) {
    throw new MinoError(`Invalid protected path '${printable(value)}': ${problem}`, {
      hint: 'Give a path relative to the project, such as .husky/ or Makefile',
    });
  }
  const isDir = value.endsWith('/');
  return { path: isDir ? value.slice(0, -1) : value, kind: isDir ? 'dir' : 'file' };
}

/** Why `value` is not a valid protected path, or undefined when it is. */
export function protectPathProblem(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'control characters are not allowed';
  if (value === '' || value === '/') return 'must not be empty';
  if (value.startsWith('/')) return 'must be relative to the project';
  if (value.length > 1024) return 'must be at most 1024 characters';
  const parts = (value.endsWith('/') ? value.slice(0, -1) : value).split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return "must not contain empty, '.' or '..' components";
  return undefined;
}

/** The working tree rules of a run: the defaults minus `unprotect`, plus `extra`. */
export interface EffectiveRules {
  worktree: ProtectRule[];
  /** Printed on every run: defaults the user's configuration removed. */
  warnings: string[];
}

/**
 * The defaults, without the paths `unprotect` names (each removal is a warning, printed on every
 * run), with `extra` added (user paths: a trailing `/` is a directory stubbed empty when absent, a
 * file is stubbed empty). Git directory rules cannot be removed.
 */
export function effectiveRules(extra: readonly string[], unprotect: readonly string[]): EffectiveRules {
  const removed = new Set(unprotect.map((v) => checkProtectPath(v).path));
  const warnings: string[] = [];
  const worktree: ProtectRule[] = [];
  for (const rule of WORKTREE_RULES) {
    if (removed.has(rule.path)) {
      warnings.push(
        `${rule.path} is not protected (protect.unprotect in your configuration): the agent can change it, and whatever on your machine obeys it will`,
      );
      continue;
    }
    worktree.push(rule);
  }
  for (const value of extra) {
    const { path, kind } = checkProtectPath(value);
    if (removed.has(path) || worktree.some((r) => r.path === path)) continue;
    worktree.push({ path, kind, stub: '' });
  }
  for (const path of removed) {
    if (!WORKTREE_RULES.some((r) => r.path === path))
      warnings.push(`protect.unprotect names ${path}, which is not protected by default: nothing removed`);
  }
  return { worktree, warnings };
}

/** Where the session finds the git excludes of the stand-ins (see {@link gitExcludeText}). */
export const GIT_EXCLUDE_TARGET = '/run/mino/git-exclude';

/**
 * The `core.excludesFile` of every session (set through GIT_CONFIG_COUNT, below layers, config and
 * `-e`): the stand-in files mino may create at the top of the project (`/.mcp.json`, `/.envrc`,
 * …) and the private `.claude/settings.local.json`, so the agent's `git add -A` does not commit
 * them. Only untracked files are affected.
 */
export function gitExcludeText(rules: readonly ProtectRule[]): string {
  const lines = [...rules, PRIVATE_RULE]
    .filter((r) => r.kind === 'file' && r.stub !== undefined)
    .map((r) => `/${r.path}`);
  return ['# Stand-ins of protected paths mino created for the session (not part of the project)', ...lines, ''].join(
    '\n',
  );
}

/** The environment that makes git in the session use {@link GIT_EXCLUDE_TARGET}. */
export function gitExcludeEnv(): Record<string, string> {
  return { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.excludesFile', GIT_CONFIG_VALUE_0: GIT_EXCLUDE_TARGET };
}
