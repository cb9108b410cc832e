import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLockAsync } from '../../common/file-lock.js';
import { ensurePrivateDir } from '../../common/private-dir.js';
import { log } from '../../common/logger.js';
import { trace } from '../../common/trace.js';
import { EngineUnreachableError } from '../runtime-errors.js';

/**
 * One ssh connection per mino process to a remote engine: `ssh -N -L LOCAL.sock:REMOTE.sock`
 * forwards a private local socket to the engine's podman socket, and every podman call of the
 * process then goes to `unix://LOCAL.sock`: one ssh handshake instead of one per podman call
 * (podman's own ssh client connects anew each time, about half a second here). The engine host's
 * key is checked against mino's known_hosts file (pinned on first contact).
 *
 * With a tunnel directory ({@link openSharedTunnel}) the tunnel outlives the process: the first
 * mino starts it as an ssh master (`-f -M`, `ControlPersist`) whose local socket sits in that
 * private directory, and every later mino within {@link PERSIST_SECONDS} of the last use finds
 * the socket answering and skips ssh altogether. ssh ends the master by itself once no forwarded
 * connection has been open for that long (an attached session keeps it). Without one the tunnel
 * ends with the process ({@link openTunnel}).
 */

/** Seconds an idle shared tunnel stays up after its last forwarded connection closed. */
export const PERSIST_SECONDS = 60;

/** Where an ssh engine is. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
  /** The podman socket on the engine's host. */
  socket: string;
  identity?: string;
  /** mino's known_hosts file. */
  knownHosts?: string;
}

/** Parses `ssh://user@host:port/socket` (already validated by the engine registry). */
export function sshTargetOf(url: string, identity?: string, knownHosts?: string): SshTarget | undefined {
  const m = /^ssh:\/\/([^@/]+)@(\[[^\]]+\]|[^:/]+)(?::(\d+))?(\/.+)$/.exec(url);
  if (!m) return undefined;
  const [, user = '', host = '', port = '22', socket = ''] = m;
  return {
    user,
    host: host.replace(/^\[|\]$/g, ''),
    port: Number(port),
    socket,
    ...(identity === undefined ? {} : { identity }),
    ...(knownHosts === undefined ? {} : { knownHosts }),
  };
}

/**
 * The ssh argv of the tunnel (no shell; every value a separate argument). `master`: a shared
 * tunnel's control socket; ssh then goes to the background once the forward is up (`-f`) and
 * stays {@link PERSIST_SECONDS} after its last use.
 */
export function tunnelArgv(target: SshTarget, localSocket: string, master?: string): string[] {
  return [
    'ssh',
    '-N',
    '-T',
    ...(master === undefined
      ? []
      : ['-f', '-M', '-o', `ControlPath=${master}`, '-o', `ControlPersist=${PERSIST_SECONDS}`]),
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=2',
    '-o',
    'StreamLocalBindUnlink=yes',
    ...(target.knownHosts
      ? ['-o', `UserKnownHostsFile=${target.knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new']
      : []),
    ...(target.identity ? ['-i', target.identity, '-o', 'IdentitiesOnly=yes'] : []),
    '-p',
    String(target.port),
    '-L',
    `${localSocket}:${target.socket}`,
    '--',
    `${target.user}@${target.host}`,
  ];
}

function unreachable(target: SshTarget, code: number | null, stderr: string): EngineUnreachableError {
  const detail = stderr.trim().split('\n').slice(-3).join('\n') || `ssh exited with ${code}`;
  return new EngineUnreachableError(
    `Cannot reach the engine at ${target.user}@${target.host}:${target.port}: ${detail}`,
    {
      engineExitCode: code ?? 255,
      stderr,
      hint: hintFor(stderr),
    },
  );
}

function hintFor(stderr: string): string {
  if (/permission denied|publickey/i.test(stderr))
    return "The engine's host refused the ssh key: check the key given with --identity and the user's authorized_keys there";
  if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr))
    return "The engine host's key is not the one mino pinned: if the host was reinstalled, remove its line from mino's known_hosts (under ~/.local/share/mino/engines/ssh/.ssh)";
  if (/connection refused|no route|timed out|could not resolve|name or service not known/i.test(stderr))
    return "The engine's host does not answer on its ssh port: check the host name and port, and that sshd runs there";
  if (/identity file|no such file/i.test(stderr))
    return 'The ssh key file cannot be read: check the path given with --identity';
  return 'Check the engine with: mino setup --engine NAME';
}

/** A running tunnel. */
export interface Tunnel {
  /** `unix://…` of the local end. */
  url: string;
  close(): void;
}

/** Opens the tunnel; resolves once the local socket exists, rejects with the engine-neutral error when ssh fails. */
export function openTunnel(target: SshTarget): Promise<Tunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'mino-engine-'));
  const local = join(dir, 'podman.sock');
  const argv = tunnelArgv(target, local);
  log.debug('ssh tunnel', { argv });
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return Promise.reject(err);
  }
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const close = (): void => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', close);
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setInterval(() => {
      if (done || !existsSync(local)) return;
      done = true;
      clearInterval(timer);
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume();
      // The tunnel must not keep mino alive: it ends with the process (see close).
      (child.stderr as { unref?: () => void } | null)?.unref?.();
      child.unref();
      resolve({ url: `unix://${local}`, close });
    }, 5);
    child.once('error', (err) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      close();
      reject(err);
    });
    child.once('exit', (code) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      close();
      reject(unreachable(target, code, stderr));
    });
  });
}

/** True when something accepts connections on the unix socket `path` (a live shared tunnel). */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(path)) return resolve(false);
    const socket = connect(path);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The shared tunnel of an engine in the private directory `dir` (see the module comment): the
 * running one when its socket answers, else a new ssh master, started under a lock of `dir` so
 * two mino processes never start two. Rejects with the engine-neutral error when ssh fails.
 */
export async function openSharedTunnel(target: SshTarget, dir: string): Promise<Tunnel> {
  ensurePrivateDir(dir, "the engine's ssh tunnel");
  const local = join(dir, 'podman.sock');
  const tunnel: Tunnel = { url: `unix://${local}`, close: () => undefined };
  if (await socketAnswers(local)) {
    trace('ssh tunnel reused', dir);
    return tunnel;
  }
  return withFileLockAsync(
    join(dir, 'lock'),
    async () => {
      if (await socketAnswers(local)) {
        trace('ssh tunnel reused', dir);
        return tunnel;
      }
      trace('ssh tunnel start', dir);
      const argv = tunnelArgv(target, local, join(dir, 'control'));
      log.debug('ssh tunnel (shared)', { argv });
      // ssh's messages go to a file: the master keeps its stderr after going to the background.
      const logPath = join(dir, 'ssh.log');
      const fd = openSync(logPath, 'w', 0o600);
      let code: number | null;
      try {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', fd] });
        code = await new Promise<number | null>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (c) => resolve(c));
        });
      } finally {
        closeSync(fd);
      }
      if (code !== 0 || !(await socketAnswers(local))) {
        let stderr = '';
        try {
          stderr = readFileSync(logPath, 'utf8');
        } catch {
          // no log: the exit code says it
        }
        throw unreachable(target, code, stderr);
      }
      trace('ssh tunnel up');
      return tunnel;
    },
    { what: "the engine's ssh tunnel", timeoutMs: 60_000, pollMs: 20 },
  );
}

/** Ends the shared tunnel in `dir`, if one runs (`mino engine remove`). Best effort. */
export function closeSharedTunnel(dir: string): void {
  if (!existsSync(join(dir, 'control'))) return;
  spawnSync('ssh', ['-o', `ControlPath=${join(dir, 'control')}`, '-O', 'exit', 'mino-engine'], {
    stdio: 'ignore',
    timeout: 5000,
  });
}
