import { createHash } from 'node:crypto';
import {
  closeSync,
  fchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  lchownSync,
  rmSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { errnoCode } from '../common/errno.js';
import { MinoError } from '../common/errors.js';
import { withFileLock } from '../common/file-lock.js';
import { log } from '../common/logger.js';
import { pidAlive } from '../common/pid-alive.js';
import type { PlannedStub } from '../protect/protect-plan.js';
import type { ContainerExecClient } from '../runtime/container-runtime.js';
import { LABEL_PROJECT } from '../session/session-labels.js';
import { listPoolKeys, readPool } from '../pool/pool-index.js';

/**
 * The stand-ins ("stubs") mino creates on the host for protected paths that do not exist yet
 * (protect/protect-plan.ts): a bind mount needs something to mount onto. Each is recorded with its
 * device, inode and content in `<state>/protect/<project hash>.json`, with the mino processes
 * that use them, and removed once nothing of the project needs it: no live recorded process, no
 * container of the project (sessions, stopped ones not yet removed, warm pool containers) and no
 * warm pool of the project (its refills start containers from the recorded spec; `mino pool drain`). Unlinking
 * a mountpoint on the host would silently detach it inside a running container, so that check
 * comes first. A stub is removed only when unchanged (a file with the same inode and content, a
 * directory that is empty), deepest first. After `kill -9` of mino, the next run of the project
 * and `mino gc` remove what is left.
 */

interface StubRecord {
  path: string;
  kind: 'file' | 'dir';
  dev: number;
  ino: number;
  content: string;
}

interface ProjectStubs {
  projectDir: string;
  /** PIDs of the mino processes that created or use the stubs. */
  users: number[];
  stubs: StubRecord[];
}

function stubDir(stateDir: string): string {
  return join(stateDir, 'protect');
}

function recordPath(stateDir: string, projectDir: string): string {
  return join(stubDir(stateDir), `${createHash('sha256').update(projectDir).digest('hex').slice(0, 24)}.json`);
}

function readRecord(path: string, projectDir: string): ProjectStubs {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<ProjectStubs>;
    return {
      projectDir: data.projectDir ?? projectDir,
      users: Array.isArray(data.users) ? data.users : [],
      stubs: Array.isArray(data.stubs) ? data.stubs : [],
    };
  } catch {
    return { projectDir, users: [], stubs: [] };
  }
}

function writeRecord(path: string, rec: ProjectStubs): void {
  if (rec.stubs.length === 0 && rec.users.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  // Not durable: a crash can only bring back the previous list (stand-ins then wait for `mino
  // gc`), and a run would otherwise wait for the disk up to five times.
  writeFileAtomic(path, `${JSON.stringify(rec, null, 1)}\n`, { mode: 0o600, durable: false });
}

function locked<T>(stateDir: string, projectDir: string, fn: (path: string) => T): T {
  mkdirSync(stubDir(stateDir), { recursive: true, mode: 0o700 });
  const path = recordPath(stateDir, projectDir);
  return withFileLock(`${path}.lock`, () => fn(path), { what: 'the protected-path stubs', timeoutMs: 15_000 });
}

/** Creates one stub; false when something is there already (created by another session meanwhile). */
function createOne(stub: PlannedStub, owner: { uid: number; gid: number } | undefined): StubRecord | undefined {
  const parent = lstatSync(dirname(stub.hostPath));
  if (!parent.isDirectory())
    throw new MinoError(`Cannot protect ${stub.hostPath}: its parent is not a directory`, {
      hint: 'Remove what the agent put there, or run mino run --dry-run to see the protected paths',
    });
  try {
    if (stub.kind === 'dir') {
      mkdirSync(stub.hostPath, { mode: 0o755 });
      // lchown: a symbolic link swapped in after the mkdir is never followed to a host file.
      if (owner) lchownSync(stub.hostPath, owner.uid, owner.gid);
    } else {
      // O_EXCL: never follows a symbolic link planted at the path.
      const fd = openSync(stub.hostPath, 'wx', 0o644);
      try {
        writeSync(fd, stub.content);
        if (owner) fchownSync(fd, owner.uid, owner.gid);
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return undefined;
    throw new MinoError(`Cannot create ${stub.hostPath} to protect it: ${(err as Error).message}`, {
      hint: 'mino creates absent protected paths for the time of the session; check the project is writable',
    });
  }
  const st = lstatSync(stub.hostPath);
  return {
    path: stub.hostPath,
    kind: stub.kind,
    dev: st.dev,
    ino: st.ino,
    content: stub.kind === 'file' ? stub.content : '',
  };
}

/**
 * Creates `stubs` (parents first) for the mino process `pid`, recording them; a stub path that
 * exists already is left alone. `owner` (the project's owner) gets the new files when given.
 */
export function createStubs(
  stateDir: string,
  projectDir: string,
  stubs: readonly PlannedStub[],
  pid: number,
  owner?: { uid: number; gid: number },
): void {
  // Nothing to create and nothing to record (this process is a user already, or there is no
  // stand-in to use): no lock, no write. Only this process removes its own PID from the users.
  if (stubs.length === 0) {
    const rec = readRecord(recordPath(stateDir, projectDir), projectDir);
    if (rec.stubs.length === 0 || rec.users.includes(pid)) return;
  }
  locked(stateDir, projectDir, (path) => {
    const rec = readRecord(path, projectDir);
    if (!rec.users.includes(pid)) rec.users.push(pid);
    try {
      for (const stub of stubs) {
        const made = createOne(stub, owner);
        if (made) rec.stubs.push(made);
      }
    } finally {
      writeRecord(path, rec);
    }
  });
}

function unchanged(s: StubRecord): boolean {
  try {
    const st = lstatSync(s.path);
    if (st.dev !== s.dev || st.ino !== s.ino) return false;
    if (s.kind === 'dir') return st.isDirectory() && readdirSync(s.path).length === 0;
    return st.isFile() && st.size === Buffer.byteLength(s.content) && readFileSync(s.path, 'utf8') === s.content;
  } catch {
    return false;
  }
}

function removeUnchanged(rec: ProjectStubs): void {
  const deepestFirst = [...rec.stubs].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  for (const s of deepestFirst) {
    if (!unchanged(s)) continue;
    try {
      if (s.kind === 'dir') rmdirSync(s.path);
      else unlinkSync(s.path);
    } catch (err) {
      log.debug('protected-path stub not removed', { path: s.path, error: String(err) });
    }
  }
  rec.stubs = [];
}

/** A warm pool of the project refills from its recorded spec, stand-ins included: kept until drained. */
export function projectPooled(stateDir: string, projectDir: string): boolean {
  return listPoolKeys(stateDir).some((key) => readPool(stateDir, key)?.project_dir === projectDir);
}

/**
 * The engine's containers listed while a run's own container ran (asked alongside it, so the end
 * of the run does not wait for the engine): `except` is that container's name. A container
 * started since then by another run of the project is one of the stubs' users.
 */
export interface ContainersSeen {
  list: Promise<{ name: string; labels: Record<string, string> }[]>;
  except: string;
}

/**
 * Drops `pid` (when given) from the users of the project's stubs, then removes the stubs when no
 * recorded process is alive and no container of the project exists. Never throws (a warning is
 * logged): the stubs are then removed by a later run or `mino gc`.
 */
export async function releaseStubs(
  runtime: ContainerExecClient,
  stateDir: string,
  projectDir: string,
  pid?: number,
  seen?: ContainersSeen,
): Promise<void> {
  await releaseThenJoin(runtime, stateDir, projectDir, { ...(pid === undefined ? {} : { pid }), seen });
}

/**
 * What a run does before it looks at the project: the stand-ins a killed run left go (as
 * {@link releaseStubs} without a PID), and `pid` joins the users of those that stay (as
 * {@link joinStubs}), under one lock and with one write at most (none when nothing changed).
 */
export async function releaseDeadThenJoin(
  runtime: ContainerExecClient,
  stateDir: string,
  projectDir: string,
  pid: number,
): Promise<void> {
  await releaseThenJoin(runtime, stateDir, projectDir, { join: pid });
}

async function releaseThenJoin(
  runtime: ContainerExecClient,
  stateDir: string,
  projectDir: string,
  how: { pid?: number; seen?: ContainersSeen | undefined; join?: number },
): Promise<void> {
  const { pid, seen, join: joining } = how;
  try {
    const path = recordPath(stateDir, projectDir);
    const rec = readRecord(path, projectDir);
    if (rec.stubs.length === 0 && rec.users.length === 0) return;
    const inUse =
      projectPooled(stateDir, projectDir) ||
      (seen ? await seen.list : await runtime.listContainers({})).some(
        (c) => c.labels[LABEL_PROJECT] === projectDir && c.name !== seen?.except,
      );
    locked(stateDir, projectDir, (p) => {
      const now = readRecord(p, projectDir);
      const before = JSON.stringify(now);
      now.users = now.users.filter((u) => u !== pid && pidAlive(u));
      if (now.users.length === 0 && !inUse) removeUnchanged(now);
      if (joining !== undefined && now.stubs.length > 0 && !now.users.includes(joining)) now.users.push(joining);
      if (JSON.stringify(now) !== before) writeRecord(p, now);
    });
  } catch (err) {
    log.warn(`protected-path stubs of ${projectDir} not removed yet: ${(err as Error).message}`);
  }
}

/** {@link releaseStubs} for every project with recorded stubs (`mino gc`). */
export async function releaseAllStubs(runtime: ContainerExecClient, stateDir: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(stubDir(stateDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  for (const name of names) {
    const rec = readRecord(join(stubDir(stateDir), name), '');
    if (rec.projectDir !== '') await releaseStubs(runtime, stateDir, rec.projectDir);
  }
}

/**
 * After mino moved the project's files to other inodes of the same paths (a branch session's
 * working copy moved into a warm container's folder, workspace/warm-copy.ts): each recorded stub
 * whose path holds what mino made (same kind, a file with the same content, a directory) is
 * recorded with its new inode, so it is removed after the session as before.
 */
export function rebindStubs(stateDir: string, projectDir: string): void {
  const path = recordPath(stateDir, projectDir);
  if (readRecord(path, projectDir).stubs.length === 0) return;
  locked(stateDir, projectDir, (p) => {
    const rec = readRecord(p, projectDir);
    for (const s of rec.stubs) {
      try {
        const st = lstatSync(s.path);
        if (s.kind === 'dir' ? !st.isDirectory() : !st.isFile() || readFileSync(s.path, 'utf8') !== s.content) continue;
        s.dev = st.dev;
        s.ino = st.ino;
      } catch {
        // gone: left as recorded (never removed)
      }
    }
    writeRecord(p, rec);
  });
}

/** Records `pid` as a user of the project's existing stubs (before discovery sees them as files). */
export function joinStubs(stateDir: string, projectDir: string, pid: number): void {
  const path = recordPath(stateDir, projectDir);
  if (readRecord(path, projectDir).stubs.length === 0) return;
  locked(stateDir, projectDir, (p) => {
    const rec = readRecord(p, projectDir);
    if (rec.stubs.length > 0 && !rec.users.includes(pid)) rec.users.push(pid);
    writeRecord(p, rec);
  });
}
