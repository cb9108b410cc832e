import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server, Socket } from 'node:net';
import { destinationOf, formatDestination, parseAuthority, type Destination } from '../destination.js';
import { decide, hasL7Rules, type EgressPolicy, type Verdict } from '../policy.js';
import type { DestinationLog } from './destination-log.js';
import { DialError, type Dialer } from './dialer.js';
import {
  RewriterRegistry,
  rawRelay,
  sendBody,
  splice,
  type RequestGate,
  type RewritableRequest,
  type Tunnel,
  type TunnelHandler,
} from './pipeline.js';
import { SOCKS_REPLY, parseGreeting, parseRequest, socksReply } from './socks5.js';

/**
 * The egress proxy of one session. Clients inside the sandbox reach it on its loopback listener;
 * one port speaks both HTTP proxy (plain `http://` requests and `CONNECT` for anything else,
 * HTTPS, SSH and raw TCP included) and SOCKS5 (told apart by the first byte). Every connection
 * and request is decided by the session's policy (by name, before any DNS lookup), dialed with
 * the address guard, and recorded. The policy can be replaced while the session runs: tunnels it
 * no longer allows are closed at once.
 */

/** Options of {@link EgressServer}. */
export interface EgressServerOptions {
  session: string;
  policy: EgressPolicy;
  dialer: Dialer;
  log: DestinationLog;
  /** Stages before the raw relay (see pipeline.ts). */
  handlers?: TunnelHandler[];
  rewriters?: RewriterRegistry;
  /** Judges each plain-HTTP request (L7 rules, l7-gate.ts); a refused one gets 403. */
  gate?: RequestGate;
  /** Checks a plain-HTTP request after its rewrite (a credential placeholder to an unbound host). */
  requestGuard?: RequestGate;
  /** Client connections at once before new ones are refused (default 1024). */
  maxConnections?: number;
}

/** Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1), plus proxy credentials. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers without the hop-by-hop ones (and those the Connection header names). On every request
 * and response of the proxy: a plain loop, and the Connection header split only when present.
 */
export function endToEndHeaders(
  headers: IncomingMessage['headers'],
  keepUpgrade = false,
): Record<string, string | string[]> {
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          String(connection)
            .toLowerCase()
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        );
  const out: Record<string, string | string[]> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === undefined) continue;
    if ((HOP_BY_HOP.has(key) || named?.has(key)) && !(keepUpgrade && key === 'upgrade')) continue;
    out[key] = value;
  }
  return out;
}

interface Live {
  dest: Destination;
  sockets: Socket[];
}

/** See the module comment. */
export class EgressServer {
  private policyValue: EgressPolicy;
  private readonly http = createHttpServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 });
  private agent: GuardedAgent;
  private readonly live = new Set<Live>();
  private readonly clients = new Set<Socket>();
  private readonly handlers: TunnelHandler[];
  private readonly rewriters: RewriterRegistry;
  private readonly maxConnections: number;

  constructor(private readonly options: EgressServerOptions) {
    this.policyValue = options.policy;
    this.handlers = [...(options.handlers ?? []), rawRelay];
    this.rewriters = options.rewriters ?? new RewriterRegistry();
    this.maxConnections = options.maxConnections ?? 1024;
    this.agent = new GuardedAgent((dest, verdict) => this.dial(dest, verdict, 'http', false));
    this.http.on('request', (req: IncomingMessage, res: ServerResponse) => void this.forward(req, res));
    this.http.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      this.connectRequest(req, socket, head),
    );
    this.http.on(
      'upgrade',
      (req: IncomingMessage, socket: Socket, head: Buffer) => void this.upgrade(req, socket, head),
    );
    this.http.on('clientError', (_err: Error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  /** The policy in force. */
  get policy(): EgressPolicy {
    return this.policyValue;
  }

  /**
   * Replaces the policy; open tunnels it no longer allows are closed (and recorded as denied), and
   * so are those to destinations that got L7 rules (their next connection is terminated and judged).
   */
  set policy(policy: EgressPolicy) {
    const before = this.policyValue;
    this.policyValue = policy;
    const old = this.agent;
    this.agent = new GuardedAgent((dest, verdict) => this.dial(dest, verdict, 'http', false));
    old.destroy();
    for (const live of [...this.live]) {
      if (!hasL7Rules(before, live.dest) && hasL7Rules(policy, live.dest)) {
        for (const s of live.sockets) s.destroy();
        this.live.delete(live);
        continue;
      }
      const verdict = decide(policy, live.dest);
      if (verdict.allowed) continue;
      this.options.log.denied(live.dest, verdict.reason, `closed: ${verdict.detail}`, 'policy-change');
      for (const s of live.sockets) s.destroy();
      this.live.delete(live);
    }
  }

  /** Serves the connections of a listener (the session's loopback listener). */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.handleConnection(socket));
  }

  /** Serves one client connection. */
  handleConnection(socket: Socket): void {
    if (this.clients.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    this.clients.add(socket);
    // No Nagle: a proxy writes heads and bodies separately, and SSH is interactive.
    socket.setNoDelay(true);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      if (chunk[0] === 0x05) {
        this.socks(socket, chunk);
        return;
      }
      socket.unshift(chunk);
      this.http.emit('connection', socket);
      socket.resume();
    });
  }

  /** Closes every client and upstream connection. */
  close(): void {
    this.agent.destroy();
    for (const s of this.clients) s.destroy();
    for (const live of this.live) for (const s of live.sockets) s.destroy();
  }

  private verdictFor(dest: Destination, protocol: string): Verdict {
    const verdict = decide(this.policyValue, dest);
    if (!verdict.allowed) this.options.log.denied(dest, verdict.reason, verdict.detail, protocol);
    return verdict;
  }

  private denyText(dest: Destination | string, detail: string, allowable: boolean): string {
    const shown = typeof dest === 'string' ? dest : formatDestination(dest);
    const fix = allowable ? `\nAllow it: mino network allow ${this.options.session} ${shown}` : '';
    return `mino: egress to ${shown} is blocked: ${detail}${fix}\n`;
  }

  /** Dials for an allowed destination, recording the outcome (`count`: as an allowed connection). */
  private async dial(
    dest: Destination,
    verdict: Extract<Verdict, { allowed: true }>,
    protocol: string,
    count = true,
  ): Promise<Socket> {
    try {
      const socket = await this.options.dialer.dial(dest, {
        hostService: verdict.hostService,
        literal: verdict.literal,
      });
      if (count) this.options.log.allowed(dest, verdict.rule);
      return socket;
    } catch (err) {
      if (err instanceof DialError && err.failure === 'host-address')
        this.options.log.denied(dest, 'host-address', err.message, protocol);
      else this.options.log.failed(dest, verdict.rule, (err as Error).message);
      throw err;
    }
  }

  private track(dest: Destination, sockets: Socket[]): void {
    const live: Live = { dest, sockets };
    this.live.add(live);
    for (const s of sockets) s.once('close', () => this.live.delete(live));
  }

  private openTunnel(
    dest: Destination,
    verdict: Extract<Verdict, { allowed: true }>,
    client: Socket,
    head: Buffer,
    answers: { established(): void; failed(reason: string): void },
    protocol: string,
  ): void {
    const tunnel: Tunnel = {
      dest,
      client,
      head,
      rewriter: this.rewriters.for(dest),
      established: answers.established,
      failed: answers.failed,
      dial: async () => {
        const upstream = await this.dial(dest, verdict, protocol);
        this.track(dest, [client, upstream]);
        return upstream;
      },
    };
    for (const handler of this.handlers) if (handler.handle(tunnel)) return;
  }

  private connectRequest(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const dest = parseAuthority(req.url ?? '');
    const reply = (status: string, text: string): void => {
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    };
    if (!dest) {
      this.options.log.denied(String(req.url ?? '').slice(0, 200), 'invalid', 'not a HOST:PORT destination', 'connect');
      reply('400 Bad Request', 'mino: CONNECT needs HOST:PORT\n');
      return;
    }
    const verdict = this.verdictFor(dest, 'connect');
    if (!verdict.allowed) {
      reply('403 Forbidden', this.denyText(dest, verdict.detail, verdict.reason !== 'host-address'));
      return;
    }
    this.openTunnel(
      dest,
      verdict,
      socket,
      head,
      {
        established: () => socket.write('HTTP/1.1 200 Connection established\r\n\r\n'),
        failed: (reason) => {
          const blocked = /^refused:/.test(reason);
          reply(
            blocked ? '403 Forbidden' : '502 Bad Gateway',
            blocked ? this.denyText(dest, reason.replace(/^refused: /, ''), false) : `mino: ${reason}\n`,
          );
        },
      },
      'connect',
    );
  }

  private absoluteDestination(
    req: IncomingMessage,
    res: ServerResponse | undefined,
  ): { dest: Destination; url: URL } | undefined {
    let url: URL | undefined;
    try {
      url = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url ?? '') ? new URL(req.url ?? '') : undefined;
    } catch {
      url = undefined;
    }
    const fail = (status: number, text: string): undefined => {
      if (res) res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(text);
      return undefined;
    };
    if (!url)
      return fail(
        400,
        "mino: this is the session's egress proxy; use it as HTTP_PROXY (absolute http:// URLs, or CONNECT)\n",
      );
    if (url.protocol !== 'http:')
      return fail(400, `mino: ${url.protocol} URLs go through CONNECT, not plain forwarding\n`);
    const dest = destinationOf(url.hostname, url.port === '' ? 80 : Number(url.port));
    if (!dest) {
      this.options.log.denied(url.host.slice(0, 200), 'invalid', 'not a valid host', 'http');
      return fail(400, 'mino: not a valid host\n');
    }
    return { dest, url };
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.absoluteDestination(req, res);
    if (!target) return;
    const { dest, url } = target;
    const verdict = this.verdictFor(dest, 'http');
    if (!verdict.allowed) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end(this.denyText(dest, verdict.detail, verdict.reason !== 'host-address'));
      return;
    }
    let outgoing: RewritableRequest = {
      dest,
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: endToEndHeaders(req.headers),
    };
    const judged = this.options.gate?.(outgoing);
    if (judged && !judged.allow) {
      this.options.log.denied(dest, 'request', judged.reason, 'http');
      req.resume();
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`mino: request blocked: ${judged.reason}\n`);
      return;
    }
    const rewriter = this.rewriters.for(dest);
    if (rewriter) outgoing = await rewriter(outgoing);
    const guard = this.options.requestGuard?.(outgoing);
    if (guard && !guard.allow) {
      this.options.log.denied(dest, 'credential-leak', guard.reason, 'http');
      req.resume();
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end(`mino: request to ${formatDestination(dest)} blocked: ${guard.reason}\n`);
      return;
    }
    const upstream = httpRequest({
      agent: this.agent,
      host: dest.host,
      port: dest.port,
      method: outgoing.method,
      path: outgoing.path,
      headers: outgoing.headers as OutgoingHttpHeaders,
      setHost: false,
      [DIAL]: { dest, verdict },
    } as ClientRequestArgs);
    upstream.on('response', (ur: IncomingMessage) => {
      this.options.log.allowed(dest, verdict.rule);
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage, endToEndHeaders(ur.headers));
      ur.pipe(res);
    });
    upstream.on('error', (err: Error) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const blocked = err instanceof DialError && err.failure === 'host-address';
      res
        .writeHead(blocked ? 403 : 502, { 'content-type': 'text/plain' })
        .end(blocked ? this.denyText(dest, err.message.replace(/^refused: /, ''), false) : `mino: ${err.message}\n`);
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    sendBody(req, upstream);
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const target = this.absoluteDestination(req, undefined);
    if (!target) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const { dest, url } = target;
    const verdict = this.verdictFor(dest, 'http');
    if (!verdict.allowed) {
      const text = this.denyText(dest, verdict.detail, verdict.reason !== 'host-address');
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    const judged = this.options.gate?.({
      dest,
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: endToEndHeaders(req.headers, true),
    });
    if (judged && !judged.allow) {
      this.options.log.denied(dest, 'request', judged.reason, 'http');
      const text = `mino: request blocked: ${judged.reason}\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    const headers = endToEndHeaders(req.headers, true);
    headers.connection = 'Upgrade';
    const lines = [`${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers))
      for (const value of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${value}`);
    let upstream: Socket;
    try {
      upstream = await this.dial(dest, verdict, 'http');
    } catch (err) {
      socket.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nmino: ${(err as Error).message}\n`);
      return;
    }
    this.track(dest, [socket, upstream]);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    splice(socket, upstream);
  }

  private socks(socket: Socket, first: Buffer): void {
    let buf = first;
    let greeted = false;
    const fail = (reply: Buffer | undefined): void => {
      if (reply && socket.writable) socket.end(reply);
      else socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      step();
    };
    const step = (): void => {
      if (!greeted) {
        const g = parseGreeting(buf);
        if (g.kind === 'more') return;
        if (g.kind === 'error') {
          socket.removeListener('data', onData);
          fail(g.reply);
          return;
        }
        if (g.kind !== 'greeted') return;
        greeted = true;
        socket.write(g.reply);
        buf = g.rest;
      }
      const r = parseRequest(buf);
      if (r.kind === 'more') return;
      socket.removeListener('data', onData);
      socket.pause();
      if (r.kind === 'error') {
        this.options.log.denied(`socks:${r.message}`.slice(0, 200), 'invalid', r.message, 'socks5');
        fail(r.reply);
        return;
      }
      if (r.kind !== 'request') return;
      const dest = destinationOf(r.host, r.port);
      if (!dest) {
        this.options.log.denied(`${r.host}:${r.port}`.slice(0, 200), 'invalid', 'not a valid destination', 'socks5');
        fail(socksReply(SOCKS_REPLY.addressNotSupported));
        return;
      }
      const verdict = this.verdictFor(dest, 'socks5');
      if (!verdict.allowed) {
        fail(socksReply(SOCKS_REPLY.notAllowed));
        return;
      }
      this.openTunnel(
        dest,
        verdict,
        socket,
        Buffer.from(r.rest),
        {
          established: () => socket.write(socksReply(SOCKS_REPLY.succeeded)),
          failed: (reason) =>
            fail(
              socksReply(
                /^refused:/.test(reason)
                  ? SOCKS_REPLY.notAllowed
                  : /resolve/.test(reason)
                    ? SOCKS_REPLY.hostUnreachable
                    : SOCKS_REPLY.refused,
              ),
            ),
        },
        'socks5',
      );
    };
    socket.on('data', onData);
    socket.resume();
    step();
  }
}

/** Request option carrying the destination and verdict to the agent. */
const DIAL = Symbol('mino.dial');

/** A keep-alive agent whose connections come from the guarded dialer. */
class GuardedAgent extends Agent {
  constructor(
    private readonly dialFn: (dest: Destination, verdict: Extract<Verdict, { allowed: true }>) => Promise<Socket>,
  ) {
    super({ keepAlive: true, maxFreeSockets: 16, timeout: 30_000 });
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    const target = (options as Record<symbol, unknown>)[DIAL] as
      | { dest: Destination; verdict: Extract<Verdict, { allowed: true }> }
      | undefined;
    if (!target) {
      callback?.(new Error('internal: request without a destination'), undefined as unknown as Duplex);
      return undefined;
    }
    this.dialFn(target.dest, target.verdict).then(
      (s) => callback?.(null, s),
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined;
  }
}
