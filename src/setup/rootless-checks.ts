import { userInfo } from 'node:os';
import { accessSync, chmodSync, constants, readFileSync, statSync } from 'node:fs';
import { localHost, type Host } from '../host/host.js';

/** Facts about the current user's ability to run rootless podman on this host. */
export interface RootlessFacts {
  user: string;
  uid: number;
  newuidmap: boolean;
  newgidmap: boolean;
  subuid: boolean;
  subgid: boolean;
  slirp4netns: boolean;
  /** /dev/net/tun can be opened read-write by unprivileged users. */
  tunUsable: boolean;
  /** The XDG_RUNTIME_DIR check (undefined for root, who needs none). */
  runtimeDir: RuntimeDirState | undefined;
}

/** True when `name` is found on `host`'s PATH (or in /usr/sbin, /sbin for tools packaged there). */
export async function hasProgram(name: string, host: Host = localHost): Promise<boolean> {
  const result = await host
    .run(['sh', '-c', 'command -v "$1" || { test -x "/usr/sbin/$1" && echo "/usr/sbin/$1"; }', 'sh', name])
    .catch(() => undefined);
  return result !== undefined && result.exitCode === 0 && result.stdout.trim() !== '';
}

/** True when `/etc/subuid`-style text has a range for the user (by name or uid). */
export function hasSubIdRange(text: string, user: string, uid: number): boolean {
  return text.split('\n').some((line) => {
    const [owner, , count] = line.trim().split(':');
    return (owner === user || owner === String(uid)) && Number(count) > 0;
  });
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether unprivileged users can use /dev/net/tun (mode o+rw), as slirp4netns needs. */
function tunUsableByUsers(uid: number): boolean {
  try {
    if (uid !== 0) {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
      return true;
    }
    return (statSync('/dev/net/tun').mode & 0o006) === 0o006;
  } catch {
    return false;
  }
}

/**
 * What the XDG_RUNTIME_DIR check found. The XDG base directory spec asks for 0700; other
 * programs keep sockets there that rely on it. `narrow` (only x bits for group or others, as
 * in 0711) is what podman itself leaves: for a container whose id map leaves the user out
 * (`--uidmap` without the user's id), libpod's makeAccessible adds x for all to every parent of
 * the container's run directory and root file system that the container root does not own,
 * `$XDG_RUNTIME_DIR` included. Others can then reach a file in it whose name they know, but
 * cannot list it; podman keeps working, so it is a warning setup repairs, not a failure.
 * `open` (group or others may read or write) is a failure.
 */
export type RuntimeDirState =
  | { kind: 'ok'; dir: string }
  | { kind: 'narrow' | 'open'; dir: string; mode: number; detail: string }
  | { kind: 'unusable'; detail: string };

/** Judges XDG_RUNTIME_DIR from what stat said (undefined: it does not exist); pure. */
export function judgeRuntimeDir(
  uid: number,
  dir: string | undefined,
  st: { isDirectory: boolean; uid: number; mode: number } | undefined,
): RuntimeDirState {
  if (!dir) return { kind: 'unusable', detail: 'XDG_RUNTIME_DIR is not set' };
  if (!st) return { kind: 'unusable', detail: `XDG_RUNTIME_DIR ${dir} does not exist` };
  if (!st.isDirectory) return { kind: 'unusable', detail: `XDG_RUNTIME_DIR ${dir} is not a directory` };
  if (st.uid !== uid)
    return { kind: 'unusable', detail: `XDG_RUNTIME_DIR ${dir} is owned by uid ${st.uid}, not ${uid}` };
  const mode = st.mode & 0o777;
  const shown = mode.toString(8).padStart(4, '0');
  if ((mode & 0o066) !== 0)
    return { kind: 'open', dir, mode, detail: `XDG_RUNTIME_DIR ${dir} is accessible by others (mode ${shown})` };
  if ((mode & 0o011) !== 0) {
    return {
      kind: 'narrow',
      dir,
      mode,
      detail: `XDG_RUNTIME_DIR ${dir} is mode ${shown}, not 0700: others can reach files in it by name (podman widens it so for containers that do not map your user)`,
    };
  }
  return { kind: 'ok', dir };
}

/** Checks XDG_RUNTIME_DIR for a rootless user: set, a directory, owned by them, mode 0700. */
function runtimeDirState(uid: number, env: NodeJS.ProcessEnv = process.env): RuntimeDirState | undefined {
  if (uid === 0) return undefined;
  const dir = env.XDG_RUNTIME_DIR;
  let st: { isDirectory: boolean; uid: number; mode: number } | undefined;
  if (dir) {
    try {
      const s = statSync(dir);
      st = { isDirectory: s.isDirectory(), uid: s.uid, mode: s.mode };
    } catch {
      st = undefined;
    }
  }
  return judgeRuntimeDir(uid, dir, st);
}

/** Makes the user's runtime directory 0700 again (theirs: no root needed). */
export function narrowRuntimeDir(dir: string): void {
  chmodSync(dir, 0o700);
}

/** Gathers the rootless prerequisites of the current user. */
export async function rootlessFacts(env: NodeJS.ProcessEnv = process.env): Promise<RootlessFacts> {
  const uid = process.getuid?.() ?? 0;
  const user = userInfo().username;
  const [newuidmap, newgidmap, slirp4netns] = await Promise.all([
    hasProgram('newuidmap'),
    hasProgram('newgidmap'),
    hasProgram('slirp4netns'),
  ]);
  return {
    user,
    uid,
    newuidmap,
    newgidmap,
    subuid: hasSubIdRange(readOr('/etc/subuid'), user, uid),
    subgid: hasSubIdRange(readOr('/etc/subgid'), user, uid),
    slirp4netns,
    tunUsable: tunUsableByUsers(uid),
    runtimeDir: runtimeDirState(uid, env),
  };
}
