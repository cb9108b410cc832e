import { join } from 'node:path';
import { z } from 'zod';
import { JsonRecordDir } from '../common/json-record-dir.js';
import { log } from '../common/logger.js';
import { defuseNewRepos, describeDefused, gitDirsOf, type RepoBaseline } from '../protect/repo-guard.js';
import { isActive } from '../session/session-record.js';
import type { SessionStore } from '../session/session-store.js';

/**
 * The git repositories each session makes in its project, made harmless when it ends
 * (protect/repo-guard.ts). When a session starts, the project's git directories are recorded
 * (`<state>/repo-guard/<session>.json`, private); when it ends (the end of an attached run,
 * `mino stop`), what is new since is checked and the record goes. A record left by a run that
 * was killed, or by a detached session that ended by itself, is checked by the next run of the
 * project and by `mino gc`, once its session is no longer active.
 */

function makeSchema() {
  return z.object({
    session: z.string(),
    project_dir: z.string(),
    git_dirs: z.record(z.string(), z.string()),
  });
}

type GuardRecord = z.infer<ReturnType<typeof makeSchema>>;

let schema: ReturnType<typeof makeSchema> | undefined;

/** Built on first use (start-up time: a run that reads no record builds none). */
function parseRecord(text: string): GuardRecord {
  schema ??= makeSchema();
  return schema.parse(JSON.parse(text));
}

function records(stateDir: string): JsonRecordDir {
  return new JsonRecordDir(join(stateDir, 'repo-guard'), 'repository record');
}

/** The project's git directories as `session` starts, kept in memory and on disk. */
export function recordRepos(stateDir: string, session: string, projectDir: string): RepoBaseline {
  const gitDirs = gitDirsOf(projectDir);
  try {
    const record: GuardRecord = { session, project_dir: projectDir, git_dirs: gitDirs };
    // Not flushed to disk (on every run's path): a killed mino leaves it; only a crash of the machine would not.
    records(stateDir).write(session, `${JSON.stringify(record)}\n`, false);
  } catch (err) {
    // The check at the end of an attached run still has the list in memory.
    log.warn(`the git repositories of ${projectDir} could not be recorded: ${(err as Error).message}`);
  }
  return gitDirs;
}

function check(projectDir: string, before: RepoBaseline): string[] {
  try {
    return describeDefused(projectDir, defuseNewRepos(projectDir, before));
  } catch (err) {
    return [
      `the git repositories of ${projectDir} could not be checked after the session: ${(err as Error).message}; look at the hooks and config of any repository the session made before you run git there`,
    ];
  }
}

function readRecord(dir: JsonRecordDir, session: string): GuardRecord | undefined {
  try {
    const text = dir.read(session);
    return text === undefined ? undefined : parseRecord(text);
  } catch {
    return undefined;
  }
}

/**
 * After `session` ended: the repositories it made in `projectDir` made harmless, against
 * `before` (else its record), and its record removed (`keep`: the session goes on, as at `mino
 * sync`: the record stays for its end). Warnings for people (without the `Warning: ` prefix).
 */
export function checkSessionRepos(
  stateDir: string,
  session: string,
  projectDir?: string,
  before?: RepoBaseline,
  keep = false,
): string[] {
  const dir = records(stateDir);
  const record = readRecord(dir, session);
  const root = projectDir ?? record?.project_dir;
  const baseline = before ?? record?.git_dirs;
  const lines = root !== undefined && baseline !== undefined ? check(root, baseline) : [];
  if (record && !keep) {
    try {
      dir.remove(session);
    } catch {
      // Checked again later: harmless.
    }
  }
  return lines;
}

/**
 * The records of sessions no longer active (killed runs, detached sessions that ended by
 * themselves), of `projectDir` or of every project: each checked, then removed. A record whose
 * session file cannot be read is kept (that session may still run). Never throws.
 */
export function checkEndedSessionsRepos(stateDir: string, store: SessionStore, projectDir?: string): string[] {
  const dir = records(stateDir);
  let all: GuardRecord[];
  try {
    all = dir.list(parseRecord, 'repository record').records;
  } catch (err) {
    return [`the records of the git repositories sessions found cannot be read: ${(err as Error).message}`];
  }
  const lines: string[] = [];
  for (const r of all) {
    if (projectDir !== undefined && r.project_dir !== projectDir) continue;
    let session: ReturnType<SessionStore['get']>;
    try {
      session = store.get(r.session);
    } catch {
      // Its session file cannot be read: whether it still runs is not known; kept for later.
      continue;
    }
    if (session && isActive(session)) continue;
    lines.push(...check(r.project_dir, r.git_dirs));
    try {
      dir.remove(r.session);
    } catch {
      // Checked again later.
    }
  }
  return lines;
}
