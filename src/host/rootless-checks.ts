import { userInfo } from 'node:os';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { localHost, type Host } from './host.js';

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
  /** XDG_RUNTIME_DIR problem, or undefined when fine. */
  runtimeDirProblem: string | undefined;
}

/** True when `name` is found on `host`'s PATH (or in /usr/sbin, /sbin for tools packaged there). */
export async function hasProgram(name: string, host: Host = localHost): Promise<boolean> {
  const result = await host.run(['sh', '-c', 'command -v "$1" || { test -x "/usr/sbin/$1" && echo "/usr/sbin/$1"; }', 'sh', name])
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
export function tunUsableByUsers(uid: number): boolean {
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

/** Checks XDG_RUNTIME_DIR for a rootless user: set, a directory, owned by them, mode 0700. */
export function runtimeDirProblem(uid: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (uid === 0) return undefined;
  const dir = env.XDG_RUNTIME_DIR;
  if (!dir) return 'XDG_RUNTIME_DIR is not set';
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) return `XDG_RUNTIME_DIR ${dir} is not a directory`;
    if (st.uid !== uid) return `XDG_RUNTIME_DIR ${dir} is owned by uid ${st.uid}, not ${uid}`;
    if ((st.mode & 0o077) !== 0) return `XDG_RUNTIME_DIR ${dir} is accessible by others (mode ${(st.mode & 0o777).toString(8)})`;
  } catch {
    return `XDG_RUNTIME_DIR ${dir} does not exist`;
  }
  return undefined;
}

/** Gathers the rootless prerequisites of the current user. */
export async function rootlessFacts(env: NodeJS.ProcessEnv = process.env): Promise<RootlessFacts> {
  const uid = process.getuid?.() ?? 0;
  const user = userInfo().username;
  const [newuidmap, newgidmap, slirp4netns] = await Promise.all([
    hasProgram('newuidmap'), hasProgram('newgidmap'), hasProgram('slirp4netns'),
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
    runtimeDirProblem: runtimeDirProblem(uid, env),
  };
}
