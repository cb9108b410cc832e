import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic, writeNewFile } from '../common/atomic-write.js';
import { EXIT_USAGE, MinoError, errorMessage } from '../common/errors.js';
import { errnoCode, withPath } from '../common/errno.js';
import { withFileLock } from '../common/file-lock.js';
import { validateSessionName } from './session-name.js';
import {
  isActive,
  parseSessionRecord,
  serializeSessionRecord,
  timeKey,
  type SessionRecord,
  type SessionStatus,
} from './session-record.js';

/** Result of {@link SessionStore.list}: records newest first, one warning per skipped file. */
export interface SessionList {
  sessions: SessionRecord[];
  warnings: string[];
  /**
   * Names of the session files that could not be read (`<name>.json`). Their containers are
   * nobody's orphans: what they belong to is unknown, so nothing may remove them.
   */
  unreadable: string[];
}

/** Changes {@link SessionStore.update} may apply (identity and creation time are fixed). */
export type SessionPatch = Partial<Omit<SessionRecord, 'id' | 'name' | 'created_at' | 'updated_at'>>;

/** Guards of {@link SessionStore.update} and {@link SessionStore.remove}. */
export interface SessionGuard {
  /** Act only if the file still holds the session with this id (not a newer one of the same name). */
  ifId?: string;
  /**
   * {@link SessionStore.update}: flush the new record to disk before and after its rename (default
   * true). False for a change a crash may lose without harm: the rename is still atomic (never a
   * torn file), and a power cut only brings back the previous record, which reconcile settles.
   */
  durable?: boolean;
}

/** A session of that name exists and is still active (starting or running). */
export class SessionExistsError extends MinoError {
  constructor(
    readonly sessionName: string,
    readonly status?: SessionStatus,
  ) {
    super(`Session '${sessionName}' already exists${status ? ` and is ${status}` : ''}`, {
      hint: `Stop it with 'mino stop ${sessionName}', or choose another name with -n`,
    });
    this.name = 'SessionExistsError';
  }
}

/**
 * No session of that name (or, with an `ifId` guard, not the one asked for). An unknown session
 * name is a usage error (exit 2) for every session command: stop, logs, exec, network, attach,
 * detach, suspend, resume.
 */
export class SessionNotFoundError extends MinoError {
  constructor(readonly sessionName: string) {
    super(`Session '${sessionName}' not found`, {
      hint: "Run 'mino list -a' to see all sessions",
      exitCode: EXIT_USAGE,
    });
    this.name = 'SessionNotFoundError';
  }
}

/** errno codes of filesystems that do not support hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Session files `<stateDir>/sessions/<name>.json` (directory 0700, files 0600), readable by
 * mino 1.6 and the other way round. All I/O is synchronous: `list` reads every file on a hot
 * path, where one sync call per file is much cheaper than promise machinery.
 *
 * Concurrency (several `mino` processes on one state directory):
 * - A new name is taken with create-if-absent semantics, as mino 1.6 does with O_EXCL: of
 *   concurrent creators exactly one wins. We write a temporary file and link(2) it into place
 *   (also fails with EEXIST) so that the file never exists half-written.
 * - Reusing the name of a stopped or failed session, `update` and `remove` happen under a
 *   per-name lock file `.<name>.lock` (see file-lock.ts) and never leave the path empty
 *   while a session is being replaced: the new record is renamed over the finished one. So a
 *   concurrent O_EXCL creator (ours or mino 1.6's) always sees a file and loses, and two
 *   replacers are serialized by the lock; the second then sees an active session and loses.
 *   (Renaming the old file aside first and then using O_EXCL is not enough on its own: a slow
 *   process can rename away the *new* file a faster one just created, and both win.)
 * - Every rewrite is atomic (temp file + rename, flushed to disk unless the change may be lost,
 *   see SessionGuard.durable), so readers never see a torn file.
 *   (Only a file that mino 1.6 itself is writing can be seen half-written.)
 */
export class SessionStore {
  /** The sessions directory. */
  readonly dir: string;
  private dirReady = false;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'sessions');
  }

  /** Path of a session's file (the name is validated first). */
  pathOf(name: string): string {
    return join(this.dir, `${validateSessionName(name)}.json`);
  }

  private lockPath(name: string): string {
    return join(this.dir, `.${name}.lock`);
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      // mino 1.6 creates it with the umask's mode; records name projects and commands.
      if ((statSync(this.dir).mode & 0o077) !== 0) chmodSync(this.dir, 0o700);
    } catch {
      // Not ours to change (another owner): leave it.
    }
    this.dirReady = true;
  }

  private read(path: string): SessionRecord | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new MinoError(`Cannot read session file ${path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      return parseSessionRecord(text);
    } catch (err) {
      throw new MinoError(`Session file ${path} is unreadable: ${errorMessage(err)}`, {
        hint: 'Fix the file by hand or delete it',
        cause: err,
      });
    }
  }

  /** Reads one session; undefined when there is none. Throws a MinoError for a corrupt file. */
  get(name: string): SessionRecord | undefined {
    return this.read(this.pathOf(name));
  }

  /** Like {@link get}, but a missing session is a {@link SessionNotFoundError}. */
  require(name: string): SessionRecord {
    const record = this.get(name);
    if (!record) throw new SessionNotFoundError(name);
    return record;
  }

  /**
   * Creates `path` with `text` unless it exists; false when it does. The content is written and
   * fsynced under a temporary name first and then hard-linked to `path`: link(2) fails with
   * EEXIST like O_EXCL, but the file appears complete, so a reader (or a losing creator) never
   * sees it empty. Filesystems without hard links fall back to a plain O_EXCL create.
   */
  private createExclusive(path: string, text: string): boolean {
    const tmp = join(this.dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      writeNewFile(tmp, text, true);
    } catch (err) {
      throw withPath(err, path, true);
    }
    try {
      linkSync(tmp, path);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      if (!NO_LINKS.has(errnoCode(err) ?? '')) throw err;
    } finally {
      unlinkSync(tmp);
    }
    try {
      writeNewFile(path, text, true);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw err;
    }
  }

  /**
   * Writes a new session file. The name must be free, or belong to a stopped or failed session,
   * whose file is then replaced (mino 1.6 blocks such names until auto-cleanup). Throws a
   * {@link SessionExistsError} when the name belongs to an active session. Of several
   * concurrent creators of one name, exactly one succeeds.
   */
  create(record: SessionRecord): void {
    const path = this.pathOf(record.name);
    const text = serializeSessionRecord(record);
    try {
      parseSessionRecord(text); // never write what mino 1.6 (or we) could not read back
    } catch (err) {
      throw new MinoError(`Internal error: invalid session record for '${record.name}': ${errorMessage(err)}`, {
        cause: err,
      });
    }
    this.ensureDir();
    if (this.createExclusive(path, text)) return;
    withFileLock(
      this.lockPath(record.name),
      () => {
        for (let attempt = 0; attempt < 10; attempt++) {
          const current = this.read(path);
          if (current === undefined) {
            if (this.createExclusive(path, text)) return;
            continue; // created meanwhile by an O_EXCL creator: look at it
          }
          if (isActive(current)) throw new SessionExistsError(record.name, current.status);
          writeFileAtomic(path, text, { mode: 0o600 });
          return;
        }
        throw new SessionExistsError(record.name);
      },
      { what: `session '${record.name}'` },
    );
  }

  /**
   * Applies `patch` to a session (read-modify-write under the name's lock, written atomically,
   * unknown fields kept) and sets `updated_at` to now. Returns the new record. Throws a
   * {@link SessionNotFoundError} when the session is gone or, with `guard.ifId`, when the
   * name now belongs to another session.
   */
  update(name: string, patch: SessionPatch, guard: SessionGuard = {}): SessionRecord {
    const path = this.pathOf(name);
    this.ensureDir();
    return withFileLock(
      this.lockPath(name),
      () => {
        const current = this.read(path);
        if (!current || (guard.ifId !== undefined && current.id !== guard.ifId)) throw new SessionNotFoundError(name);
        const next: SessionRecord = { ...current, ...patch, updated_at: new Date().toISOString() };
        writeFileAtomic(path, serializeSessionRecord(next), { mode: 0o600, durable: guard.durable ?? true });
        return next;
      },
      { what: `session '${name}'` },
    );
  }

  /**
   * Deletes a session file under the name's lock. Returns false when there was none (or, with
   * `guard.ifId`, when the name now belongs to another session, which is left alone).
   */
  remove(name: string, guard: SessionGuard = {}): boolean {
    const path = this.pathOf(name);
    this.ensureDir();
    return withFileLock(
      this.lockPath(name),
      () => {
        if (guard.ifId !== undefined && this.read(path)?.id !== guard.ifId) return false;
        try {
          unlinkSync(path);
          return true;
        } catch (err) {
          if (errnoCode(err) === 'ENOENT') return false;
          throw err;
        }
      },
      { what: `session '${name}'` },
    );
  }

  /**
   * Every session, newest first (by `created_at`, then name). Files that cannot be read or
   * parsed, or whose `name` does not match the file name, are skipped with one warning each.
   * Hidden files (locks, temporaries) and non-`.json` files are ignored.
   */
  list(): SessionList {
    let files: string[];
    try {
      files = readdirSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { sessions: [], warnings: [], unreadable: [] };
      throw new MinoError(`Cannot read the sessions directory ${this.dir}: ${errorMessage(err)}`, { cause: err });
    }
    const keyed: { record: SessionRecord; key: bigint }[] = [];
    const warnings: string[] = [];
    const unreadable: string[] = [];
    for (const file of files) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      const path = join(this.dir, file);
      try {
        const record = parseSessionRecord(readFileSync(path, 'utf8'));
        if (`${record.name}.json` !== file) throw new Error(`it holds session '${record.name}'`);
        keyed.push({ record, key: timeKey(record.created_at) ?? 0n }); // parse checked the format
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue; // removed while listing
        warnings.push(`Skipping session file ${path}: ${errorMessage(err)}`);
        unreadable.push(file.slice(0, -'.json'.length));
      }
    }
    keyed.sort((a, b) => (a.key === b.key ? (a.record.name < b.record.name ? -1 : 1) : a.key < b.key ? 1 : -1));
    return { sessions: keyed.map((k) => k.record), warnings, unreadable };
  }
}
