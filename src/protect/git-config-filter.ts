/**
 * Which settings of a git config file git may obey without running a program, for a repository
 * a session created (protect/repo-guard.ts): git on this machine reads such a repository's
 * `config` whenever it works in it, and a planted `core.fsmonitor`, `core.pager`, `alias.x = !…`,
 * filter or diff driver, credential helper or `include.path` runs a command as the user. Pure.
 *
 * An allowlist, not a denylist: git grows new keys that run programs; the keys kept here are the
 * ones `git init`, `git clone`, `git remote add` and `git branch -u` write, plus identity.
 */

/**
 * Kept keys, lower case, `*` standing for a subsection (`remote.<name>.url`). Remote URLs stay:
 * git refuses the `ext::` transport (which runs a command) unless a config allows it, and that
 * config would be dropped.
 */
const SAFE_KEYS: readonly string[] = [
  'core.repositoryformatversion',
  'core.filemode',
  'core.bare',
  'core.logallrefupdates',
  'core.ignorecase',
  'core.precomposeunicode',
  'core.symlinks',
  'core.autocrlf',
  'core.eol',
  'core.safecrlf',
  'core.quotepath',
  'core.worktree', // see worktreeOk
  'core.sparsecheckout',
  'core.sparsecheckoutcone',
  'extensions.objectformat',
  'extensions.worktreeconfig',
  'extensions.partialclone',
  'remote.*.url',
  'remote.*.pushurl',
  'remote.*.fetch',
  'remote.*.tagopt',
  'remote.*.promisor',
  'remote.*.partialclonefilter',
  'branch.*.remote',
  'branch.*.merge',
  'branch.*.rebase',
  'branch.*.pushremote',
  'user.name',
  'user.email',
  'init.defaultbranch',
  'pull.rebase',
  'pull.ff',
  'push.default',
];

/** The key of `section`, `subsection` (or none) and `name` as {@link SAFE_KEYS} spells it. */
function keyPattern(section: string, subsection: string | undefined, name: string): string {
  return subsection === undefined ? `${section}.${name}` : `${section}.*.${name}`;
}

/** What {@link filterGitConfig} made of a config text. */
export interface FilteredConfig {
  /** The config with the unsafe settings left out (sections whose keys all went are dropped too). */
  text: string;
  /** The settings left out, as `section[.subsection].key` (in order, each once). */
  dropped: string[];
}

/**
 * Splits a git config text into what may stay and what may not. A line it cannot read as a
 * section header, a `key = value`, a bare boolean `key`, a comment or a blank line counts as
 * unsafe (`?` in `dropped`), as does a value continued on the next line: such a config is
 * replaced whole rather than half understood. `core.worktree` stays only when `worktreeOk`
 * accepts its value (a submodule's `../../../lib`: inside the project).
 */
export function filterGitConfig(text: string, worktreeOk: (value: string) => boolean = () => false): FilteredConfig {
  // A value continued on the next line: its next line must not be read as a key of its own.
  if (/\\[ \t]*\r?(\n|$)/.test(text)) return { text: '', dropped: ['?'] };
  const dropped: string[] = [];
  const out: string[] = [];
  let header: string | undefined;
  let headerWritten = false;
  let section = '';
  let subsection: string | undefined;
  const drop = (what: string): void => {
    if (!dropped.includes(what)) dropped.push(what);
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\\n]|\\.)*)")?\s*\](.*)$/.exec(line);
    let rest = line;
    if (head) {
      const name = (head[1] ?? '').toLowerCase();
      // `[a.b]` is the old spelling of `[a "b"]`.
      const dot = name.indexOf('.');
      section = dot < 0 ? name : name.slice(0, dot);
      subsection = head[2] !== undefined ? head[2] : dot < 0 ? undefined : name.slice(dot + 1);
      header = raw
        .trim()
        .slice(0, raw.trim().length - (head[3] ?? '').length)
        .trim();
      headerWritten = false;
      rest = (head[3] ?? '').trim();
      if (rest === '' || rest.startsWith('#') || rest.startsWith(';')) continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(rest);
    if (!kv || section === '') {
      drop('?');
      continue;
    }
    const name = (kv[1] ?? '').toLowerCase();
    const full = subsection === undefined ? `${section}.${name}` : `${section}.${subsection}.${name}`;
    const value = (kv[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
    // core.worktree decides where git writes a checkout: kept only where the caller says so.
    if (
      !SAFE_KEYS.includes(keyPattern(section, subsection, name)) ||
      (full === 'core.worktree' && !worktreeOk(value))
    ) {
      drop(full);
      continue;
    }
    if (!headerWritten && header !== undefined) {
      out.push(header);
      headerWritten = true;
    }
    out.push(`\t${rest}`);
  }
  return { text: out.length === 0 ? '' : `${out.join('\n')}\n`, dropped };
}
