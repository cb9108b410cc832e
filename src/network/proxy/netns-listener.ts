import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';

/**
 * Opening the proxy's listener inside a container's network namespace. Node cannot enter a
 * namespace itself, so a one-shot child does: `nsenter` puts it into the namespace (rootless:
 * into the container's user namespace first, which the user owns), it listens on
 * 127.0.0.1:PORT, hands the listening socket to the proxy over the IPC channel (SCM_RIGHTS) and
 * exits. The proxy then accepts the sandbox's connections itself: no relay process, no extra hop,
 * and nothing the sandbox could kill.
 */

/** The child: listen, send the server handle to the parent, exit. */
const LISTENER_SOURCE = [
  "'use strict';",
  "const net = require('net');",
  'const server = net.createServer();',
  "server.on('error', (e) => process.send({ error: String(e && (e.code || e.message)) }, () => process.exit(1)));",
  'server.listen({ host: process.env.MINO_LISTEN_HOST, port: Number(process.env.MINO_LISTEN_PORT) }, () => {',
  '  process.send({ listening: true }, server, () => process.exit(0));',
  '});',
].join('\n');

/** Hidden first argument that makes the single executable run {@link listenAndHandOver}. */
export const NETNS_LISTEN_ARG = '_netns-listen';

/**
 * The child's work inside the single executable (dist/mino cannot run `-e` code): the same as
 * {@link LISTENER_SOURCE}. The net module is fetched here, not imported: module code runs while
 * the start-up snapshot is built.
 */
export function listenAndHandOver(): void {
  const net = process.getBuiltinModule('node:net');
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write(`${NETNS_LISTEN_ARG} is started by mino's egress proxy only\n`);
    process.exit(2);
  }
  const server = net.createServer();
  server.on('error', (e: NodeJS.ErrnoException) =>
    send({ error: String(e.code ?? e.message) }, undefined, undefined, () => process.exit(1)),
  );
  server.listen({ host: process.env.MINO_LISTEN_HOST, port: Number(process.env.MINO_LISTEN_PORT) }, () => {
    send({ listening: true }, server, undefined, () => process.exit(0));
  });
}

/** The child's command line after nsenter's `--`: node with the source, or the single executable. */
function listenerArgv(node: string | undefined): string[] {
  const { isSea } = process.getBuiltinModule('node:sea');
  if (node === undefined && isSea()) return [process.execPath, NETNS_LISTEN_ARG];
  return [node ?? process.execPath, '-e', LISTENER_SOURCE];
}

/** The start time of a process (field 22 of /proc/PID/stat), undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Options of {@link openListenerInNetns}. */
export interface NetnsListenerOptions {
  /** Container PID (host PID namespace). */
  pid: number;
  /** Rootless podman: enter the container's user namespace too. */
  rootless: boolean;
  host: string;
  port: number;
  /** nsenter's path. */
  nsenter: string;
  /** The node executable (this process's). */
  node?: string;
  timeoutMs?: number;
}

/** Opens the listener in the namespace of `pid` and returns it, listening, in this process. */
export function openListenerInNetns(options: NetnsListenerOptions): Promise<Server> {
  const ns = options.rootless
    ? ['-t', String(options.pid), '-U', '-n', '--preserve-credentials']
    : [`--net=/proc/${options.pid}/ns/net`];
  const argv = [...ns, '--', ...listenerArgv(options.node)];
  return new Promise((resolve, reject) => {
    const child = spawn(options.nsenter, argv, {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: {
        MINO_LISTEN_HOST: options.host,
        MINO_LISTEN_PORT: String(options.port),
        PATH: process.env.PATH ?? '/usr/bin:/bin',
      },
    });
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined, server?: Server): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        child.kill('SIGKILL');
        reject(err);
      } else {
        resolve(server!);
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `the listener in the container's network namespace did not start within ${options.timeoutMs ?? 30_000} ms`,
          ),
        ),
      options.timeoutMs ?? 30_000,
    );
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-2000);
    });
    child.on('error', (err) => finish(new Error(`cannot run ${options.nsenter}: ${err.message}`)));
    child.on('message', (msg: { listening?: boolean; error?: string }, handle: unknown) => {
      if (msg?.listening && handle) finish(undefined, handle as Server);
      else
        finish(
          new Error(
            `cannot listen on ${options.host}:${options.port} in the container: ${msg?.error ?? 'no socket received'}`,
          ),
        );
    });
    // 'close', not 'exit': its stderr is read to the end by then.
    child.on('close', (code) => {
      if (!settled)
        finish(
          new Error(
            `entering the container's network namespace failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`,
          ),
        );
    });
  });
}
