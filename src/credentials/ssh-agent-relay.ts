import { chmodSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { log } from '../common/logger.js';

/**
 * A relay for the SSH agent in rootful sessions. ssh-agent makes its socket 0600 for its owner
 * (root, when root runs mino); the session's user (uid 1000 in mino-base, or whatever the image
 * runs as) cannot connect to it. mino, running as root, listens on a socket of its own, in its
 * private 0700 directory and readable by all (only the bind mount exposes it, inside the one
 * container), and pipes each connection to the real agent. Rootless sessions need no relay: the
 * container user is the host user there.
 *
 * The relay lives as long as this mino process, so it serves attached sessions.
 */

/** A running relay. */
export interface AgentRelay {
  /** The relay's socket path on the host. */
  path: string;
  /** Stops listening and closes every connection; removes the socket. */
  close(): Promise<void>;
}

/** Starts a relay at `path` (replacing a stale socket) to the agent at `agentSocket`. */
export async function startAgentRelay(path: string, agentSocket: string): Promise<AgentRelay> {
  try {
    unlinkSync(path);
  } catch {
    // none left over
  }
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(agentSocket);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop);
    upstream.on('error', (err) => {
      log.warn('ssh agent relay: the host agent refused a connection', { error: err.message });
      drop();
    });
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o666);
  server.unref();
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => {
          try {
            unlinkSync(path);
          } catch {
            // removed by close already
          }
          resolve();
        });
      }),
  };
}
