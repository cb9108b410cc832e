import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  type Stats,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { MinoError } from '../common/errors.js';
import { errnoCode } from '../common/errno.js';
import { execCapture } from '../common/exec.js';

/**
 * The private /dev of rootful sessions in which a container id is host root (launch/userns.ts).
 * In a user namespace runc cannot create device nodes, so it binds the host's own /dev/null,
 * /dev/zero, /dev/tty … into the container (and /dev/null over podman's masked /proc paths); a
 * process that is host uid 0 there owns those inodes and could chmod them for the whole host. This
 * directory holds device nodes of mino's own, mounted read-only as /dev (runc then adds none):
 * nothing in it can be changed from inside, and the nodes still read and write as usual.
 */

/** A character device node of the directory. */
export interface DeviceNode {
  name: string;
  major: number;
  minor: number;
}

/** The device nodes (mode 0666, owned by root) of the directory. */
export const DEVICE_NODES: readonly DeviceNode[] = Object.freeze([
  { name: 'null', major: 1, minor: 3 },
  { name: 'zero', major: 1, minor: 5 },
  { name: 'full', major: 1, minor: 7 },
  { name: 'random', major: 1, minor: 8 },
  { name: 'urandom', major: 1, minor: 9 },
  { name: 'tty', major: 5, minor: 0 },
  // runc opens /dev/console for writing before it binds a session's terminal over it: a null
  // device opens on a read-only /dev, a regular file would not.
  { name: 'console', major: 1, minor: 3 },
  // Opens the devpts mounted at /dev/pts beside it.
  { name: 'ptmx', major: 5, minor: 2 },
]);

/** The symbolic links of the directory. */
export const DEVICE_LINKS: Readonly<Record<string, string>> = Object.freeze({
  fd: '/proc/self/fd',
  stdin: '/proc/self/fd/0',
  stdout: '/proc/self/fd/1',
  stderr: '/proc/self/fd/2',
});

/** The empty directories (mount points of podman's /dev/shm, devpts and the like). */
export const DEVICE_SUBDIRS: readonly string[] = Object.freeze(['pts', 'shm', 'mqueue']);

/** The Linux device number of major:minor as `stat` reports it. */
export function deviceNumber(major: number, minor: number): number {
  return (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** The entries of a directory as lstat sees them (undefined: missing). */
export type StatOf = (
  path: string,
) => Pick<Stats, 'uid' | 'mode' | 'rdev' | 'isCharacterDevice' | 'isDirectory' | 'isSymbolicLink'> | undefined;

/** What is wrong with `dir` as the private /dev (empty when it is exactly right). */
export function deviceDirProblems(
  dir: string,
  stat: StatOf = lstatOrUndefined,
  readLink: (path: string) => string = readlinkSync,
): string[] {
  const problems: string[] = [];
  const top = stat(dir);
  if (top === undefined) return [`${dir} is missing`];
  if (!top.isDirectory() || top.uid !== 0 || (top.mode & 0o7777) !== 0o755)
    return [`${dir} is not a root-owned 0755 directory`];
  for (const node of DEVICE_NODES) {
    const st = stat(join(dir, node.name));
    if (
      st === undefined ||
      !st.isCharacterDevice() ||
      st.rdev !== deviceNumber(node.major, node.minor) ||
      st.uid !== 0 ||
      (st.mode & 0o7777) !== 0o666
    ) {
      problems.push(`${node.name} is not the ${node.major}:${node.minor} device node`);
    }
  }
  for (const [name, target] of Object.entries(DEVICE_LINKS)) {
    const st = stat(join(dir, name));
    if (st === undefined || !st.isSymbolicLink() || readLink(join(dir, name)) !== target)
      problems.push(`${name} is not a link to ${target}`);
  }
  for (const name of DEVICE_SUBDIRS) {
    const st = stat(join(dir, name));
    if (st === undefined || !st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0)
      problems.push(`${name} is not a root-owned directory`);
  }
  return problems;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Decodes the octal escapes (`\040`) of a /proc/self/mountinfo path. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * True when `path` (canonical) lies on a mount with the `nodev` option, as /proc/self/mountinfo
 * (`mountInfo`) lists it: device nodes there do not open.
 */
export function onNodevMount(path: string, mountInfo: string): boolean {
  let best: { point: string; options: string[] } | undefined;
  for (const line of mountInfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 6) continue;
    const point = unescapeMountPath(fields[4]!);
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (best === undefined || point.length >= best.point.length))
      best = { point, options: fields[5]!.split(',') };
  }
  return best?.options.includes('nodev') ?? false;
}

/** Creates a character device node (mknod(1): Node.js has no mknod). */
export type MakeNode = (path: string, major: number, minor: number) => Promise<void>;

const mknod: MakeNode = async (path, major, minor) => {
  const r = await execCapture(['mknod', '-m', '0666', path, 'c', String(major), String(minor)]);
  if (r.exitCode !== 0) throw new MinoError(`Cannot create the device node ${path}: ${r.stderr.trim()}`);
};

/**
 * Makes `dir` the private /dev (root only; it is built aside and renamed into place, so a
 * session never sees half of it). Returns true when it (re)made it, false when it was right.
 */
export async function ensureDeviceDir(dir: string, makeNode: MakeNode = mknod): Promise<boolean> {
  if (deviceDirProblems(dir).length === 0) return false;
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true, mode: 0o755 });
  const p = lstatSync(parent);
  if (!p.isDirectory() || p.uid !== 0 || (p.mode & 0o022) !== 0) {
    throw new MinoError(`${parent} must be a directory of root's that no one else can write`, {
      hint: `Remove it or fix it (chown root: ${parent}; chmod 755 ${parent}), then run again`,
    });
  }
  if (onNodevMount(realpathSync(parent), readFileSync('/proc/self/mountinfo', 'utf8'))) {
    throw new MinoError(
      `${parent} lies on a filesystem mounted nodev: the device nodes mino gives a session there would not open`,
      {
        hint: 'Remount that filesystem without nodev, or run mino as the owner of the project (the issue arises only for root-owned projects)',
      },
    );
  }
  const fresh = `${dir}.${process.pid}.new`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { mode: 0o755 });
  try {
    for (const node of DEVICE_NODES) await makeNode(join(fresh, node.name), node.major, node.minor);
    for (const [name, target] of Object.entries(DEVICE_LINKS)) symlinkSync(target, join(fresh, name));
    for (const name of DEVICE_SUBDIRS) mkdirSync(join(fresh, name), { mode: 0o755 });
    const problems = deviceDirProblems(fresh);
    if (problems.length > 0) throw new MinoError(`Cannot prepare the device directory ${dir}: ${problems.join('; ')}`);
    // Another mino may have made it meanwhile: a good directory is never replaced (sessions use it).
    if (deviceDirProblems(dir).length === 0) return false;
    if (lstatOrUndefined(dir) !== undefined) {
      const old = `${dir}.${process.pid}.old`;
      renameSync(dir, old);
      rmSync(old, { recursive: true, force: true });
    }
    try {
      renameSync(fresh, dir);
    } catch (err) {
      // Another mino made it at the same moment.
      if (!['ENOTEMPTY', 'EEXIST'].includes(errnoCode(err) ?? '') || deviceDirProblems(dir).length > 0) throw err;
    }
    return true;
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
}
