import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { MinoError } from '../common/errors.js';
import { isActive, parseSessionRecord, serializeSessionRecord, type SessionRecord } from './session-record.js';
import { validateSessionName } from './session-name.js';

/** Result of listing sessions: records newest first, plus one warning per unreadable file. */
export interface SessionList {
  sessions: SessionRecord[];
  warnings: string[];
}

/** The session of that name exists and is still active. */
export class SessionExistsError extends MinoError {
  constructor(readonly sessionName: string) {
    super(`Session '${sessionName}' already exists`, {
      hint: `Stop it with 'mino stop ${sessionName}', or choose another name with -n`,
    });
    this.name = 'SessionExistsError';
  }
}

/** No session of that name. */
export class SessionNotFoundError extends MinoError {
  constructor(readonly sessionName: string) {
    super(`Session '${sessionName}' not found`, { hint: "Run 'mino list -a' to see sessions" });
    this.name = 'SessionNotFoundError';
  }
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Session files under `<stateDir>/sessions/<name>.json`. Creation is O_EXCL (exactly one of
 * several concurrent creators wins); every later change is an atomic rewrite (temp file + fsync +
 * rename), so a crash never leaves a torn file. Synchronous on purpose: `mino list` reads
 * hundreds of small files, where sync I/O is fastest.
 */
export class SessionStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'sessions');
  }

  private path(name: string): string {
    return join(this.dir, `${validateSessionName(name)}.json`);
  }

  /** Reads one session, or undefined when there is none. Throws on a corrupt file. */
  get(name: string): SessionRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(name), 'utf8');
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return parseSessionRecord(text);
    } catch (err) {
      throw new MinoError(`Session file ${this.path(name)} is unreadable: ${(err as Error).message}`, {
        hint: 'Remove the file or fix it by hand',
      });
    }
  }

  /** Like get, but a missing session is a SessionNotFoundError. */
  require(name: string): SessionRecord {
    const record = this.get(name);
    if (!record) throw new SessionNotFoundError(name);
    return record;
  }

  /**
   * Creates the session file. A stopped or failed session of the same name is replaced; an
   * active one is a SessionExistsError. Safe against concurrent creators: exactly one wins.
   */
  create(record: SessionRecord): void {
    const path = this.path(record.name);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const text = serializeSessionRecord(record);
    for (let attempt = 0; attempt < 5; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (err) {
        if (code(err) !== 'EEXIST') throw err;
        this.retireFinished(record.name, path);
        continue;
      }
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return;
    }
    throw new SessionExistsError(record.name);
  }

  /**
   * Moves a finished session's file out of the way so its name can be reused. The file is first
   * renamed to a unique name (atomic: of two racers only one gets it), then checked: if what was
   * taken is an active session (a racer's fresh file), it is put back with link(2), which never
   * overwrites, and the name stays taken.
   */
  private retireFinished(name: string, path: string): void {
    let existing: SessionRecord | undefined;
    try {
      existing = parseSessionRecord(readFileSync(path, 'utf8'));
    } catch (err) {
      if (code(err) === 'ENOENT') return; // gone meanwhile: retry the create
      throw new MinoError(`Session file ${path} is unreadable`, { hint: 'Remove the file, then retry', cause: err });
    }
    if (isActive(existing)) throw new SessionExistsError(name);
    const aside = join(this.dir, `.${name}.${process.pid}.${Date.now()}.retired`);
    try {
      renameSync(path, aside);
    } catch (err) {
      if (code(err) === 'ENOENT') return;
      throw err;
    }
    let taken: SessionRecord | undefined;
    try {
      taken = parseSessionRecord(readFileSync(aside, 'utf8'));
    } catch {
      taken = undefined;
    }
    if (taken && isActive(taken)) {
      try {
        linkSync(aside, path);
      } catch {
        // The name was taken again meanwhile; the active file we moved is lost only if
        // its owner never rewrites it (every update rewrites the whole file).
      }
      unlinkSync(aside);
      throw new SessionExistsError(name);
    }
    unlinkSync(aside);
  }

  /** Applies changes to a session atomically and returns the new record (updated_at = now). */
  update(name: string, changes: Partial<Omit<SessionRecord, 'id' | 'name' | 'created_at'>>): SessionRecord {
    const current = this.require(name);
    const next: SessionRecord = { ...current, ...changes, updated_at: new Date().toISOString() };
    writeFileAtomic(this.path(name), serializeSessionRecord(next), { mode: 0o600 });
    return next;
  }

  /** Deletes a session file (missing is fine). */
  remove(name: string): void {
    try {
      unlinkSync(this.path(name));
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
  }

  /** Every session, newest first. Unreadable files are skipped and reported, never silently. */
  list(): SessionList {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (code(err) === 'ENOENT') return { sessions: [], warnings: [] };
      throw err;
    }
    const sessions: SessionRecord[] = [];
    const warnings: string[] = [];
    for (const file of names) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      const full = join(this.dir, file);
      try {
        sessions.push(parseSessionRecord(readFileSync(full, 'utf8')));
      } catch (err) {
        warnings.push(`Skipping unreadable session file ${full}: ${(err as Error).message}`);
      }
    }
    sessions.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    return { sessions, warnings };
  }
}
