import {
  Agent,
  createServer,
  request as httpRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket, connect as tlsConnect } from 'node:tls';
import { destinationOf, formatDestination, type Destination } from '../destination.js';
import type { DenyReason } from '../policy.js';
import { endToEndHeaders } from './egress-server.js';
import {
  allowAllRequests,
  sendBody,
  splice,
  type RequestGate,
  type RequestVerdict,
  type RewritableRequest,
  type Tunnel,
  type TunnelHandler,
} from './pipeline.js';
import type { LeafCertificates } from './tls-ca.js';

/**
 * The TLS-terminating tunnel handler (see pipeline.ts). For a destination it terminates, it dials
 * first (a refused or failed dial answers the tunnel as the raw relay would), answers
 * `established()`, then speaks TLS to the client with a leaf certificate of the session CA
 * (ALPN: http/1.1 only) and hands the decrypted socket to an in-process HTTP server. Each request
 * of the connection (keep-alive included) is checked in turn: its Host must be the tunnel's
 * destination, the gate (L7 rules) must allow it, the rewriter (credentials) runs, and the
 * after-rewrite check (no placeholder left for a host it is not bound to) must pass; a refused
 * request gets a 403 and a `denied` record, and the connection stays usable. Allowed requests go
 * upstream over TLS verified against the given CAs, on a keep-alive connection of this tunnel
 * (the first one is the dialled socket). Responses stream back as they come (SSE, chunked);
 * WebSocket upgrades are relayed once both sides agreed.
 */

/** Stream buffers of terminated connections (bulk downloads: fewer pauses, fewer writes). */
const HIGH_WATER_MARK = 256 * 1024;

/** Options of {@link terminatingHandler}. */
export interface TerminatorOptions {
  certificates: LeafCertificates;
  /** True for the destinations to terminate (default: those with a rewriter). */
  terminates?: (dest: Destination) => boolean;
  /** L7 rules (default: allow all). */
  gate?: RequestGate;
  /** Checks a request after the rewriter ran (a placeholder to a host it is not bound to). */
  afterRewrite?: RequestGate;
  /** CA certificates (PEM) upstream servers are verified against (default: node's). */
  upstreamCa?: string | string[];
  /** Records a refused request. */
  denied(dest: Destination, reason: DenyReason, detail: string): void;
}

/** The tunnel a decrypted socket belongs to. */
interface Terminated {
  tunnel: Tunnel;
  agent: TunnelAgent;
}

/** A keep-alive agent for one tunnel: its first connection is the dialled one, later ones dial again. */
class TunnelAgent extends Agent {
  constructor(private readonly open: () => Promise<Socket>) {
    super({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, timeout: 60_000 });
  }

  override createConnection(
    _options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    this.open().then(
      (s) => callback?.(null, s),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** `host[:port]` of a Host header as a destination (port defaulting to `defaultPort`). */
function hostHeaderDestination(value: string, defaultPort: number): Destination | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  return destinationOf(m[1]!, m[2] === undefined ? defaultPort : Number(m[2]));
}

function sameDestination(a: Destination, b: Destination): boolean {
  return a.host === b.host && a.port === b.port;
}

function statusText(status: number, text: string): string {
  return `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Gateway'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`;
}

/** Builds the terminating handler (see the module comment). */
export function terminatingHandler(options: TerminatorOptions): TunnelHandler & { close(): void } {
  const terminates = (tunnel: Tunnel): boolean =>
    options.terminates ? options.terminates(tunnel.dest) : tunnel.rewriter !== undefined;
  const gate = options.gate ?? allowAllRequests;
  const server = createServer({
    requestTimeout: 0,
    headersTimeout: 60_000,
    keepAliveTimeout: 30_000,
    highWaterMark: HIGH_WATER_MARK,
  });
  const bySocket = new WeakMap<Socket, Terminated>();
  const open = new Set<TLSSocket>();

  const upstreamTls = (dest: Destination, raw: Socket): Promise<Socket> =>
    new Promise((resolve, reject) => {
      // highWaterMark: known to node's tls.connect (passed to its socket), missing from its types.
      const secure = tlsConnect({
        socket: raw,
        host: dest.host,
        ...(dest.kind === 'name' ? { servername: dest.host } : {}),
        ALPNProtocols: ['http/1.1'],
        ...({ highWaterMark: HIGH_WATER_MARK } as object),
        ...(options.upstreamCa !== undefined ? { ca: options.upstreamCa } : {}),
      });
      secure.setNoDelay(true);
      secure.once('secureConnect', () => {
        secure.removeListener('error', reject);
        resolve(secure);
      });
      secure.once('error', (err) => {
        raw.destroy();
        reject(new Error(`TLS to ${formatDestination(dest)} failed: ${err.message}`));
      });
    });

  /** The request's verdict: its Host, the gate, then (after the rewrite) the leak check. */
  const judge = async (
    t: Terminated,
    req: IncomingMessage,
  ): Promise<{ request: RewritableRequest } | { denied: string; reason: DenyReason }> => {
    const { dest } = t.tunnel;
    let path = req.url ?? '/';
    let hostValue = String(req.headers.host ?? '');
    if (!path.startsWith('/')) {
      // absolute-form: its authority must be the tunnel's destination too
      try {
        const url = new URL(path);
        if (url.protocol !== 'https:') return { denied: `${url.protocol} URL on a TLS connection`, reason: 'request' };
        hostValue = url.host;
        path = `${url.pathname}${url.search}`;
      } catch {
        return { denied: 'request target is not a path', reason: 'request' };
      }
    }
    const asked = hostHeaderDestination(hostValue, 443);
    if (!asked || !sameDestination(asked, dest))
      return {
        denied: `request for ${hostValue.slice(0, 100) || '(no Host)'} on a connection to ${formatDestination(dest)}`,
        reason: 'request',
      };
    let request: RewritableRequest = {
      dest,
      method: req.method ?? 'GET',
      path,
      headers: endToEndHeaders(req.headers, req.headers.upgrade !== undefined),
    };
    const verdict: RequestVerdict = gate(request);
    if (!verdict.allow) return { denied: verdict.reason, reason: 'request' };
    if (t.tunnel.rewriter) request = await t.tunnel.rewriter(request);
    const after = options.afterRewrite?.(request) ?? { allow: true };
    if (!after.allow) return { denied: after.reason, reason: 'credential-leak' };
    return { request };
  };

  const refuse = (dest: Destination, reason: DenyReason, detail: string): string => {
    options.denied(dest, reason, detail);
    return `mino: request to ${formatDestination(dest)} blocked: ${detail}\n`;
  };

  const upstreamRequest = (t: Terminated, request: RewritableRequest): ReturnType<typeof httpRequest> =>
    httpRequest({
      agent: t.agent,
      host: request.dest.host,
      port: request.dest.port,
      method: request.method,
      path: request.path,
      headers: request.headers as OutgoingHttpHeaders,
      setHost: false,
    });

  server.on('request', async (req: IncomingMessage, res: ServerResponse) => {
    const t = bySocket.get(req.socket);
    if (!t) {
      res.destroy();
      return;
    }
    const judged = await judge(t, req).catch((err: Error) => ({
      denied: `internal: ${err.message}`,
      reason: 'request' as const,
    }));
    if ('denied' in judged) {
      const text = refuse(t.tunnel.dest, judged.reason, judged.denied);
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) }).end(text);
      return;
    }
    const upstream = upstreamRequest(t, judged.request);
    upstream.on('response', (ur: IncomingMessage) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, endToEndHeaders(ur.headers));
      // A stream (SSE, chunked) gets its head at once; a sized body carries it in its first write.
      if (ur.headers['content-length'] === undefined) res.flushHeaders();
      ur.pipe(res);
    });
    upstream.on('error', (err: Error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = `mino: ${err.message}\n`;
      res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) }).end(text);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    sendBody(req, upstream);
  });

  server.on('upgrade', async (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const t = bySocket.get(socket);
    if (!t) {
      socket.destroy();
      return;
    }
    const judged = await judge(t, req).catch((err: Error) => ({
      denied: `internal: ${err.message}`,
      reason: 'request' as const,
    }));
    if ('denied' in judged) {
      socket.end(statusText(403, refuse(t.tunnel.dest, judged.reason, judged.denied)));
      return;
    }
    const headers = { ...judged.request.headers, connection: 'Upgrade' };
    const upstream = upstreamRequest(t, { ...judged.request, headers });
    upstream.on('upgrade', (ur: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      const lines = [`HTTP/1.1 ${ur.statusCode ?? 101} ${ur.statusMessage ?? 'Switching Protocols'}`];
      for (let i = 0; i < ur.rawHeaders.length; i += 2) lines.push(`${ur.rawHeaders[i]}: ${ur.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      splice(socket, upSocket);
    });
    upstream.on('response', (ur: IncomingMessage) => {
      // The server refused the upgrade: relay its answer and close.
      const lines = [`HTTP/1.1 ${ur.statusCode ?? 502} ${ur.statusMessage ?? ''}`];
      for (const [k, v] of Object.entries(endToEndHeaders(ur.headers)))
        for (const value of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${value}`);
      lines.push('connection: close');
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      ur.pipe(socket);
    });
    upstream.on('error', (err: Error) => socket.end(statusText(502, `mino: ${err.message}\n`)));
    upstream.end();
  });

  server.on('clientError', (_err: Error, socket: Duplex) => socket.destroy());

  return {
    handle(tunnel: Tunnel): boolean {
      if (!terminates(tunnel)) return false;
      const { client, dest } = tunnel;
      client.pause();
      tunnel.dial().then(
        (first) => {
          if (client.destroyed) {
            first.destroy();
            return;
          }
          let spare: Socket | undefined = first;
          const agent = new TunnelAgent(async () => {
            const raw = spare ?? (await tunnel.dial());
            spare = undefined;
            return upstreamTls(dest, raw);
          });
          tunnel.established();
          if (tunnel.head.length > 0) client.unshift(tunnel.head);
          const secure = new TLSSocket(client, {
            isServer: true,
            secureContext: options.certificates.contextFor(dest.host),
            ALPNProtocols: ['http/1.1'],
            ...({ highWaterMark: HIGH_WATER_MARK } as object),
          });
          secure.setNoDelay(true);
          open.add(secure);
          bySocket.set(secure, { tunnel, agent });
          const end = (): void => {
            open.delete(secure);
            agent.destroy();
            spare?.destroy();
            client.destroy();
          };
          // Domain fronting: a TLS server name (SNI) of another host than the tunnel's is refused.
          secure.once('secure', () => {
            const sni = (secure as TLSSocket & { servername?: string | false }).servername;
            if (typeof sni !== 'string' || sni === '' || sni.toLowerCase().replace(/\.$/, '') === dest.host) return;
            options.denied(
              dest,
              'request',
              `TLS server name ${sni.slice(0, 100)} on a connection to ${formatDestination(dest)}`,
            );
            secure.destroy();
          });
          secure.on('error', end);
          secure.on('close', end);
          server.emit('connection', secure);
          client.resume();
        },
        (err: Error) => tunnel.failed(err.message),
      );
      return true;
    },
    close(): void {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}
