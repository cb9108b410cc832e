import { execCapture, type ExecResult } from '../common/exec.js';
import { MinoError } from '../common/errors.js';

/**
 * The one way mino runs git on a working copy or on the host repository. A working copy is the
 * agent's: its files, index and refs are hostile input. So every call runs with no system or
 * global configuration (no filter, diff or credential helper of the user's runs on the agent's
 * files), hooks off, no fsmonitor, no prompts, and none of mino's own GIT_* variables; the working
 * copy's own `.git/config` is mino's (protected read-only in its sessions).
 */

/** The `-c` settings of every call (command-line configuration wins over every file). */
const HARDENING = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.sshCommand=false',
  '-c',
  'protocol.allow=never',
  '-c',
  'protocol.file.allow=always',
  '-c',
  'safe.directory=*',
  '-c',
  'user.name=mino',
  '-c',
  'user.email=mino@localhost',
];

/** The environment of a git call: this process's minus every GIT_* variable, plus `extra`. */
function gitEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    ...extra,
  };
}

/** Options of {@link git}. */
export interface GitOptions {
  /** Extra environment (e.g. GIT_INDEX_FILE). */
  env?: Readonly<Record<string, string>>;
  /** Text on stdin. */
  input?: string;
}

/** Runs `git -C dir ARGS` hardened (see the module comment); never throws for a non-zero exit. */
export function gitTry(dir: string, args: readonly string[], options: GitOptions = {}): Promise<ExecResult> {
  return execCapture(['git', '-C', dir, ...HARDENING, ...args], {
    env: gitEnv(options.env),
    ...(options.input === undefined ? {} : { input: options.input }),
    timeoutMs: 120_000,
  });
}

/** Like {@link gitTry}, but returns stdout without its final newline, and throws a MinoError on failure. */
export async function git(dir: string, args: readonly string[], options: GitOptions = {}): Promise<string> {
  const r = await gitTry(dir, args, options);
  if (r.exitCode !== 0) {
    // The subcommand: the first argument that is no option nor a `-c` value.
    const verb = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? '';
    throw new MinoError(`git ${verb} failed in ${dir}: ${r.stderr.trim() || `exit ${r.exitCode}`}`, {
      hint: 'Check the repository with git status; run mino with -v for details',
    });
  }
  return r.stdout.replace(/\n$/, '');
}
