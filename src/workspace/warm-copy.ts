import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../common/pid-alive.js';
import { compareText } from '../common/compare-text.js';

/**
 * The folders the warm pool keeps for branch sessions (issue 23). A warm container of a branch
 * plan mounts an EMPTY folder of its own, `<copies of the repository>/.warm/<container>/`, laid
 * out like a working copy's base folder: the copy's folder and, inside it, only the paths the
 * plan mounts on their own (the pinned folders and the protected git files and stand-ins, as
 * empty folders and files), plus the private settings file. No copy is ever in it while the
 * container waits. The run that claims the container moves its own working copy INTO that folder
 * ({@link adoptWarmCopy}): every path the container has mounted keeps its inode (a file's content
 * is written into it, a folder gets the entries), everything else is renamed in, and the folder
 * then takes the copy's place. A bind mount follows the inode, so the claimed container sees
 * exactly the copy, with every protected path mounted read-only as in a cold branch session.
 */

/** One path under a working copy's base folder that a branch plan mounts (or holds such a path). */
export interface WarmCopyEntry {
  /** Relative to the base folder, `/`-separated. */
  path: string;
  kind: 'file' | 'dir';
}

/** What a branch pool's warm containers mount of a working copy (kept in the pool record). */
export interface WarmCopyLayout {
  /** `<copies of the repository>/.warm`: beside the working copies (one file system: a claim renames). */
  dir: string;
  /** The paths to make in each warm container's folder, parents first. */
  entries: WarmCopyEntry[];
  /** Owner of the files (the project's owner when mino runs as root for another user's project). */
  owner?: { uid: number; gid: number };
}

/** The folder of the warm folders of the repository whose working copies live in `copiesDir`. */
export function warmCopiesDir(copiesDir: string): string {
  return join(copiesDir, '.warm');
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** The folder of the warm container `name` in `dir` (a name of mino's own: checked all the same). */
export function warmCopyOf(dir: string, name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`Invalid warm container name '${name}'`);
  return join(dir, name);
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

/**
 * The host paths under a working copy that a plan's container has mounted or mounted ON: every
 * mount's source, and the copy's path of every mount target inside the copy's folder (`workdir`
 * in the container). A mount point the container holds must keep its inode: a file renamed over
 * it on the host would take the mount away inside (Linux detaches it).
 */
export function mountedPaths(
  mounts: readonly { source: string; target: string }[],
  copy: string,
  workdir: string,
): string[] {
  const out: string[] = [];
  for (const m of mounts) {
    out.push(m.source);
    if (under(m.target, workdir)) out.push(`${copy}${m.target.slice(workdir.length)}`);
  }
  return out;
}

/**
 * The entries of a plan whose mounted paths are `sources` (see {@link mountedPaths}), for the base folder `base`: every
 * source under it, with its parent folders, parents first. `kindOf` tells a path's kind.
 */
export function layoutEntries(
  base: string,
  sources: readonly string[],
  kindOf: (rel: string) => 'file' | 'dir',
): WarmCopyEntry[] {
  const kinds = new Map<string, 'file' | 'dir'>();
  for (const s of sources) {
    if (s === base || !under(s, base)) continue;
    const rel = s.slice(base.length + 1);
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) kinds.set(parts.slice(0, i).join('/'), 'dir');
    if (!kinds.has(rel) || kinds.get(rel) === 'file') kinds.set(rel, kindOf(rel));
  }
  return [...kinds]
    .map(([path, kind]) => ({ path, kind }))
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length || compareText(a.path, b.path));
}

/** Makes the warm folder of container `name` (0700, the invoking user's) with the layout's empty entries; returns it. */
export function makeWarmCopy(layout: WarmCopyLayout, name: string): string {
  const at = warmCopyOf(layout.dir, name);
  mkdirSync(layout.dir, { recursive: true, mode: 0o700 });
  rmSync(at, { recursive: true, force: true });
  mkdirSync(at, { mode: 0o700 });
  const owner = process.getuid?.() === 0 && layout.owner && layout.owner.uid !== 0 ? layout.owner : undefined;
  for (const e of layout.entries) {
    const p = join(at, e.path);
    if (e.kind === 'dir') mkdirSync(p, { mode: 0o755 });
    else closeSync(openSync(p, 'wx', 0o644));
    if (owner) lchownSync(p, owner.uid, owner.gid);
  }
  return at;
}

/** Removes the warm folder of container `name` (it is gone, or was never started). */
export function removeWarmCopy(dir: string, name: string): void {
  rmSync(warmCopyOf(dir, name), { recursive: true, force: true });
}

/**
 * Removes the warm folders in `dir` of containers not in `live` (used, expired, drained) that
 * have not changed for `graceMs` (a folder a run has just claimed is moved away within moments),
 * and stand-in copies whose process is gone.
 */
export function sweepWarmCopies(dir: string, live: ReadonlySet<string>, graceMs = 60_000, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (live.has(name) || !NAME_RE.test(name)) continue;
    // A stand-in copy of a plan under way (branch/prepare-branch.ts): its process's own.
    const probe = /^probe-(\d+)-/.exec(name);
    if (probe && pidAlive(Number(probe[1]))) continue;
    try {
      if (now - lstatSync(join(dir, name)).mtimeMs < graceMs) continue;
    } catch {
      continue;
    }
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

function kindAt(path: string): 'file' | 'dir' | undefined {
  try {
    const st = lstatSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves the working copy's base folder `base` into the warm folder `warm` (see the module
 * comment), which then takes its place. `sources` are the claiming plan's mounted paths ({@link mountedPaths}). False,
 * with nothing changed, when the two do not match (a mounted path of another kind, or missing).
 */
export function adoptWarmCopy(base: string, warm: string, sources: readonly string[]): boolean {
  if (kindAt(base) !== 'dir' || kindAt(warm) !== 'dir') return false;
  // Claimed now: a sweep leaves a folder alone that changed moments ago.
  const now = new Date();
  utimesSync(warm, now, now);
  const entries = layoutEntries(base, sources, (rel) => kindAt(join(base, rel)) ?? 'file');
  for (const e of entries) {
    if (kindAt(join(base, e.path)) !== e.kind || kindAt(join(warm, e.path)) !== e.kind) return false;
  }
  const kinds = new Map(entries.map((e) => [e.path, e.kind]));
  // The warm folder holds its layout only (nothing its container wrote would be overwritten).
  for (const dir of ['', ...entries.filter((e) => e.kind === 'dir').map((e) => e.path)]) {
    for (const name of readdirSync(join(warm, dir))) if (!kinds.has(dir === '' ? name : `${dir}/${name}`)) return false;
  }
  const root = process.getuid?.() === 0;
  const merge = (rel: string): void => {
    for (const name of readdirSync(join(base, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const from = join(base, r);
      const to = join(warm, r);
      const kind = kinds.get(r);
      if (kind === 'dir') {
        merge(r);
        sameMode(lstatSync(from), to, root);
      } else if (kind === 'file') writeInto(from, to, root);
      else renameSync(from, to);
    }
  };
  merge('');
  const st = lstatSync(base);
  rmSync(base, { recursive: true, force: true });
  chmodSync(warm, st.mode & 0o7777);
  renameSync(warm, base);
  return true;
}

/** Gives `to` the mode (and, as root, the owner) of `st`, never following a link. */
function sameMode(st: Stats, to: string, root: boolean): void {
  chmodSync(to, st.mode & 0o7777);
  if (root) lchownSync(to, st.uid, st.gid);
}

/** Writes the content, mode and (as root) owner of the file `from` into the existing file `to`: same inode. */
function writeInto(from: string, to: string, root: boolean): void {
  const st = lstatSync(from);
  const data = readFileSync(from);
  const fd = openSync(to, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    fchmodSync(fd, st.mode & 0o7777);
    if (root) fchownSync(fd, st.uid, st.gid);
  } finally {
    closeSync(fd);
  }
}
