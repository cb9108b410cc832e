import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';
import { findProgram } from '../common/find-program.js';
import { compareText } from '../common/compare-text.js';

/**
 * The answers of the host programs registry discovery asks (registry-hosts.ts: `npm config get
 * registry`, the host pip's default index), kept for the next runs: npm alone takes a few hundred
 * milliseconds of a contained session's start. An answer is reused only while nothing it could
 * depend on changed: the same program (path, size and time of its file), the same variables
 * (npm's, pip's, HOME, PATH), the same npm configuration files (user, global, built-in) and
 * working directory; and for at most a day.
 */

/** How long an answer is reused at most. */
const MAX_AGE_MS = 24 * 60 * 60_000;

/** An answer of a program. */
interface Answer {
  exitCode: number;
  stdout: string;
}

/** The file of kept answers: fingerprint → answer and when it was given. */
type AnswerFile = Record<string, { at: number } & Answer>;

/** Size and modification time of a file (resolved through links), or `-` when it is missing. */
function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return '-';
  }
}

/** Everything an answer of `argv` could depend on, hashed. */
export function answerFingerprint(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  homeDir: string,
  cwd: string,
): string {
  const program = findProgram(argv[0] ?? '', env.PATH);
  const vars = Object.entries(env)
    .filter(([k]) => /^(npm_config_|pip_|home$|path$|xdg_config_)/i.test(k))
    .sort(([a], [b]) => compareText(a, b));
  const userrc = env.NPM_CONFIG_USERCONFIG ?? env.npm_config_userconfig;
  const files = [
    userrc && isAbsolute(userrc) ? userrc : join(homeDir, '.npmrc'),
    '/etc/npmrc',
    '/usr/etc/npmrc',
    '/usr/local/etc/npmrc',
    join(cwd, '.npmrc'),
  ];
  return createHash('sha256')
    .update(
      JSON.stringify([
        argv,
        program ?? null,
        program ? stamp(program) : '-',
        vars,
        cwd,
        files.map((f) => [f, stamp(f)]),
      ]),
    )
    .digest('hex')
    .slice(0, 32);
}

/**
 * `run` with its answers kept in `file` (see the module comment); failed runs are not kept.
 * Problems with the file only cost the time of asking again.
 */
export function keptAnswers(
  run: (argv: readonly string[]) => Promise<Answer>,
  file: string,
  fingerprint: (argv: readonly string[]) => string,
  now: () => number = Date.now,
): (argv: readonly string[]) => Promise<Answer> {
  return async (argv) => {
    const key = fingerprint(argv);
    const kept = readAnswers(file)[key];
    if (kept && now() - kept.at >= 0 && now() - kept.at < MAX_AGE_MS)
      return { exitCode: kept.exitCode, stdout: kept.stdout };
    const answer = await run(argv);
    if (answer.exitCode === 0) {
      const all = readAnswers(file);
      for (const [k, v] of Object.entries(all)) if (now() - v.at >= MAX_AGE_MS) delete all[k];
      all[key] = { at: now(), exitCode: answer.exitCode, stdout: answer.stdout.slice(0, 4096) };
      writeJsonCache(file, all, 0o700); // not written: asked again next time
    }
    return answer;
  };
}

function readAnswers(file: string): AnswerFile {
  return (readJsonCache(file, jsonObject) ?? {}) as AnswerFile;
}
