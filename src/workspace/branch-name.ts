import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/**
 * Names of session branches. A session's branch is `mino/NAME` in the host repository; NAME also
 * names the working copy's folder, so it is held to what git accepts in a ref AND what is safe as
 * one path component: letters, digits, `.`, `_`, `-`; not starting with `-` or `.`; no `..`; not
 * ending in `.` or `.lock`; at most 64 characters.
 */

/** The prefix of every session branch in the host repository. */
const BRANCH_PREFIX = 'mino/';

const VALID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Why `name` is refused, or undefined when it is a valid branch name. */
function refusal(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 64) return 'it is longer than 64 characters';
  if (!VALID.test(name)) return "use letters, digits, '.', '_' and '-', not starting with '-' or '.'";
  if (name.includes('..')) return "git refuses '..' in a branch name";
  if (name.endsWith('.') || name.endsWith('.lock')) return "git refuses a branch name ending in '.' or '.lock'";
  return undefined;
}

/** Checks a `--branch` NAME; returns it, or throws a UsageError (exit 2). */
export function validateBranchName(name: string): string {
  const why = refusal(name);
  if (why === undefined) return name;
  throw new UsageError(
    `Invalid branch name '${printable(name)}': ${why}`,
    'Pass --branch NAME with a name such as fix-tests or try.2 (the branch is mino/NAME), or -b alone for one named after the session',
  );
}

/** The full ref of a session branch. */
export function branchRef(name: string): string {
  return `refs/heads/${BRANCH_PREFIX}${name}`;
}

/** The side ref in the host repository that keeps a session's uncommitted work. */
export function wipRef(name: string): string {
  return `refs/mino/wip/${name}`;
}

/** The session name a branch gives when no -n is passed: its name with '.' as '-'. */
export function sessionNameForBranch(name: string): string {
  return name.replaceAll('.', '-');
}
