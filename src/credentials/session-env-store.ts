import { closeSync, fchmodSync, lstatSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../common/private-dir.js';
import { isErrno } from '../common/errno.js';

/**
 * Where the session env files (session-env-file.ts) live on the host, and their life cycle:
 * one file per active session, `<session>.env`, in a directory only mino's user may enter
 * (0700, checked on every use: never a symlink, never someone else's). Inside, the file is
 * readable by all (0444) because the container user may be any uid; the directory is the guard.
 *
 * Written after the session record exists and removed when the session ends: at exit for
 * attached runs, right after `podman run -d` returns for detached ones (the bind mount keeps the
 * inode for the running container, `mino exec` included), and by reconciliation for sessions
 * whose `mino run` died (`kill -9`): any file whose session is not active is removed.
 */

/** The directory of the session env files of one state directory. */
export function sessionEnvDir(
  stateDir: string,
  stateKey: string,
  env: NodeJS.ProcessEnv,
  uid: number | undefined,
): string {
  // A tmpfs is best: the values never reach a disk. XDG_RUNTIME_DIR is one (rootless users);
  // root usually has none set, and /run is one.
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (process.platform === 'linux') {
    if (runtimeDir?.startsWith('/') && ownedDir(runtimeDir, uid))
      return join(runtimeDir, 'mino', stateKey, 'session-env');
    if (uid === 0) return join('/run', 'mino', stateKey, 'session-env');
  }
  return join(stateDir, 'session-env');
}

function ownedDir(path: string, uid: number | undefined): boolean {
  try {
    const st = lstatSync(path);
    return st.isDirectory() && (uid === undefined || st.uid === uid);
  } catch {
    return false;
  }
}

const FILE_SUFFIX = '.env';
const RELAY_SUFFIX = '.ssh-agent.sock';
const CA_SUFFIX = '.ca.crt';

/** The session env files of one state directory. */
export class SessionEnvStore {
  constructor(readonly dir: string) {}

  /** Host path of the file of `session` (whether or not it exists). */
  pathOf(session: string): string {
    return join(this.dir, `${session}${FILE_SUFFIX}`);
  }

  /** Host path of the SSH agent relay socket of `session` (rootful sessions; ssh-agent-relay.ts). */
  relayPathOf(session: string): string {
    return join(this.dir, `${session}${RELAY_SUFFIX}`);
  }

  /** Host path of the CA bundle of `session` (public certificates, its session CA included). */
  caPathOf(session: string): string {
    return join(this.dir, `${session}${CA_SUFFIX}`);
  }

  /** Writes the CA bundle of `session` (removed with its env file) and returns its path. */
  writeCaBundle(session: string, text: string): string {
    return this.writeNew(this.caPathOf(session), text);
  }

  /** Writes the file of `session` (replacing a leftover one) and returns its path. */
  write(session: string, text: string): string {
    return this.writeNew(this.pathOf(session), text);
  }

  private writeNew(path: string, text: string): string {
    this.ensureDir();
    try {
      unlinkSync(path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
    }
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o400);
    } catch (err) {
      // An empty directory may be removed by a clean-up between the two steps: make it again.
      if (!isErrno(err, 'ENOENT')) throw err;
      this.ensureDir();
      fd = openSync(path, 'wx', 0o400);
    }
    try {
      writeSync(fd, text);
      fchmodSync(fd, 0o444);
    } catch (err) {
      closeSync(fd);
      unlinkSync(path);
      throw err;
    } finally {
      try {
        closeSync(fd);
      } catch {
        // closed above
      }
    }
    return path;
  }

  /** Removes the file (and a leftover relay socket or CA bundle) of `session`; missing ones are fine. */
  remove(session: string): void {
    for (const path of [this.pathOf(session), this.relayPathOf(session), this.caPathOf(session)]) {
      try {
        unlinkSync(path);
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err;
      }
    }
  }

  /** Sessions that have a file or a relay socket. */
  sessions(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return [];
      throw err;
    }
    const sessions = new Set<string>();
    for (const n of names) {
      if (n.endsWith(FILE_SUFFIX)) sessions.add(n.slice(0, -FILE_SUFFIX.length));
      else if (n.endsWith(RELAY_SUFFIX)) sessions.add(n.slice(0, -RELAY_SUFFIX.length));
      else if (n.endsWith(CA_SUFFIX)) sessions.add(n.slice(0, -CA_SUFFIX.length));
    }
    return [...sessions];
  }

  /** Removes the files of sessions for which `keep` is false; returns their session names. */
  reap(keep: (session: string) => boolean): string[] {
    const removed: string[] = [];
    for (const session of this.sessions()) {
      if (keep(session)) continue;
      this.remove(session);
      removed.push(session);
    }
    return removed;
  }

  /** Creates the directory (0700) and checks that it is a real directory of this user. */
  ensureDir(): void {
    ensurePrivateDir(this.dir, 'session secrets');
  }
}
