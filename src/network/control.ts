import { connect, createServer, type Server } from 'node:net';
import type { NetworkRecord } from './network-record.js';
import type { ProxiedCredential } from './egress-secrets.js';
import type { PolicyText } from './policy.js';

/**
 * The control protocol of a session's proxy: one JSON request line per connection on the
 * proxy's control socket (in the user's 0700 egress directory, never visible to the sandbox),
 * one JSON answer line back.
 * - `status`: the policy in force and the record so far;
 * - `allow` / `deny` with `rules`: change the policy at once (tunnels no longer allowed close);
 * - `finish`: the final record, then the proxy stops (the session ended);
 * - `claim` (a warm container's proxy only, once): the session that claimed the container, its
 *   policy, presets and audit setting; the proxy moves to the session's egress directory, so
 *   everything that finds a session's proxy by name finds it, and enforces that policy from then on;
 *   a proxy started with a CA (a terminating plan's) also takes the run's credentials.
 */

/** A request. */
export type ControlRequest =
  | { op: 'status' }
  | { op: 'allow'; rules: string[] }
  | { op: 'deny'; rules: string[] }
  | { op: 'finish' }
  | {
      op: 'claim';
      session: string;
      policy: PolicyText;
      presets: string[];
      audit: boolean;
      /** The run's credentials (real values: the socket's directory is the user's alone), for a proxy started with a CA. */
      credentials?: ProxiedCredential[];
    };

/** An answer. */
export type ControlResponse = { ok: true; policy: PolicyText; record: NetworkRecord } | { ok: false; error: string };

/** Serves control requests on `path` with `handle` (another protocol's with its types; a request line of at most `maxBytes`). */
export function serveControl<Req = ControlRequest, Res = ControlResponse>(
  path: string,
  handle: (req: Req) => Res | Promise<Res>,
  maxBytes = 65536,
): Promise<Server> {
  const server = createServer((socket) => {
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > maxBytes) {
        socket.destroy();
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: Req;
      try {
        req = JSON.parse(buf.slice(0, nl)) as Req;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, error: 'not JSON' })}\n`);
        return;
      }
      Promise.resolve()
        .then(() => handle(req))
        .then(
          (res) => socket.end(`${JSON.stringify(res)}\n`),
          (err: Error) => socket.end(`${JSON.stringify({ ok: false, error: err.message })}\n`),
        );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/** The proxy of this session is not running (no control socket, or nobody answering). */
export class ControlUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlUnavailableError';
  }
}

/** Sends one request to the control socket at `path` (another protocol's with its types). */
export function controlRequest<Req = ControlRequest, Res = ControlResponse>(
  path: string,
  req: Req,
  timeoutMs = 5000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ControlUnavailableError('the egress proxy did not answer in time'));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('data', (chunk: string) => {
      buf += chunk;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new ControlUnavailableError(
          err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'the egress proxy is not running' : err.message,
        ),
      );
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf.trim()) as Res);
      } catch {
        reject(new ControlUnavailableError('the egress proxy closed the connection without an answer'));
      }
    });
  });
}
