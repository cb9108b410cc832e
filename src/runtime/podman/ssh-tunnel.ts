import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../../common/logger.js';
import { EngineUnreachableError } from '../runtime-errors.js';

/**
 * One ssh connection per mino process to a remote engine: `ssh -N -L LOCAL.sock:REMOTE.sock`
 * forwards a private local socket to the engine's podman socket, and every podman call of the
 * process then goes to `unix://LOCAL.sock`: one ssh handshake instead of one per podman call
 * (podman's own ssh client connects anew each time, about half a second here). The engine host's
 * key is checked against mino's known_hosts file (pinned on first contact). The tunnel ends with
 * the process.
 */

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

/** The ssh argv of the tunnel (no shell; every value a separate argument). */
export function tunnelArgv(target: SshTarget, localSocket: string): string[] {
  return [
    'ssh',
    '-N',
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'ConnectTimeout=15',
    '-o',
    'ServerAliveInterval=15',
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
      const detail = stderr.trim().split('\n').slice(-3).join('\n') || `ssh exited with ${code}`;
      reject(
        new EngineUnreachableError(
          `Cannot reach the engine at ${target.user}@${target.host}:${target.port}: ${detail}`,
          {
            engineExitCode: code ?? 255,
            stderr,
            hint: hintFor(stderr),
          },
        ),
      );
    });
  });
}
