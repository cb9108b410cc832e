import type { Server, Socket } from 'node:net';
import { destinationOf, formatDestination, parseAuthority, type Destination } from '../destination.js';
import { decide, hasL7Rules, type EgressPolicy, type Verdict } from '../policy.js';
import type { DestinationLog } from './destination-log.js';
import { DialError, type Dialer } from './dialer.js';
import { rehearse } from './rehearsal.js';
import { warmUp } from './warm-up.js';
import { BodyScanner } from './body-scanner.js';
import { simpleTarget } from './absolute-target.js';
import { requestHeadText, type RequestHead } from './http-head.js';
import { HttpRelay, type RelayDecision, type RelayReply } from './http-relay.js';
import {
  RewriterRegistry,
  rawRelay,
  type RequestGate,
  type RewritableRequest,
  type Tunnel,
  type TunnelHandler,
} from './pipeline.js';
import type { BodyGuard } from './tls-credentials.js';
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
  /** What a plain-HTTP request body to a destination must not carry (placeholders). */
  bodyGuard?: (dest: Destination) => BodyGuard | undefined;
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
  headers: Readonly<Record<string, string | string[] | undefined>>,
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

/** Distinct authorities of plain-HTTP targets whose destination and verdict are kept. */
const MAX_TARGETS = 256;

/** What is known of one authority of plain-HTTP targets. */
interface KnownTarget {
  dest: Destination;
  /** The policy `verdict` was decided by. */
  policy: EgressPolicy | undefined;
  verdict: Verdict | undefined;
}

interface Live {
  dest: Destination;
  sockets: Socket[];
}

/** See the module comment. */
export class EgressServer {
  private policyValue: EgressPolicy;
  private readonly live = new Set<Live>();
  private readonly clients = new Set<Socket>();
  private readonly handlers: TunnelHandler[];
  private readonly rewriters: RewriterRegistry;
  private readonly maxConnections: number;
  private readonly targets = new Map<string, KnownTarget>();

  constructor(private readonly options: EgressServerOptions) {
    this.policyValue = options.policy;
    this.handlers = [...(options.handlers ?? []), rawRelay];
    this.rewriters = options.rewriters ?? new RewriterRegistry();
    this.maxConnections = options.maxConnections ?? 1024;
  }

  /**
   * Does now, in the next turn of the event loop, what the session's first requests would pay for
   * (warm-up.ts, rehearsal.ts). A session's proxy calls it once it is ready, while its container
   * starts (before then it would delay the run).
   */
  warm(): void {
    setImmediate(() => {
      warmUp(this.policyValue);
      void rehearse((o) => new EgressServer(o));
    });
  }

  /** The policy in force. */
  get policy(): EgressPolicy {
    return this.policyValue;
  }

  /**
   * Replaces the policy; open tunnels and kept-alive plain-HTTP connections it no longer allows are
   * closed (and recorded as denied), and so are those to destinations that got L7 rules (their
   * next connection is terminated and judged).
   */
  set policy(policy: EgressPolicy) {
    const before = this.policyValue;
    this.policyValue = policy;
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

  /** Serves one client connection: SOCKS5 (by its first byte) or HTTP (proxy requests, CONNECT). */
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
      if (chunk[0] === 0x05) {
        socket.pause();
        this.socks(socket, chunk);
        return;
      }
      new HttpRelay(socket, (head) => this.httpRequest(socket, head), chunk);
    });
  }

  /** Closes every client and upstream connection. */
  close(): void {
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
    bulk = false,
  ): Promise<Socket> {
    try {
      const socket = await this.options.dialer.dial(dest, {
        hostService: verdict.hostService,
        literal: verdict.literal,
        bulk,
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
      dial: async (bulk = false) => {
        const upstream = await this.dial(dest, verdict, protocol, true, bulk);
        this.track(dest, [client, upstream]);
        return upstream;
      },
    };
    for (const handler of this.handlers) if (handler.handle(tunnel)) return;
  }

  private connectRequest(authority: string, socket: Socket, head: Buffer): void {
    const dest = parseAuthority(authority);
    const reply = (status: string, text: string): void => {
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    };
    if (!dest) {
      this.options.log.denied(authority.slice(0, 200), 'invalid', 'not a HOST:PORT destination', 'connect');
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

  /**
   * The destination of an absolute `http://` request target and the policy's verdict on it (by
   * the policy in force: cached per authority and policy), or the reply refusing it. A simple
   * target (absolute-target.ts) is split without a URL parse; its authority is parsed once.
   */
  private judgeTarget(target: string): { dest: Destination; path: string; verdict: Verdict } | RelayReply {
    const simple = simpleTarget(target);
    let known = simple && this.targets.get(simple.authority);
    if (simple && !known) {
      // (an authority that does not parse is left to the whole target's parse, for its reply)
      const parsed = this.absoluteDestination(`http://${simple.authority}/`, false);
      if (!('kind' in parsed)) {
        if (this.targets.size >= MAX_TARGETS) this.targets.clear();
        known = { dest: parsed.dest, policy: undefined, verdict: undefined };
        this.targets.set(simple.authority, known);
      }
    }
    let dest: Destination;
    let path: string;
    if (simple && known) {
      dest = known.dest;
      path = simple.path;
    } else {
      const parsed = this.absoluteDestination(target);
      if ('kind' in parsed) return parsed;
      ({ dest, path } = parsed);
    }
    let verdict: Verdict;
    if (known?.policy === this.policyValue && known.verdict) verdict = known.verdict;
    else {
      verdict = decide(this.policyValue, dest);
      if (known) {
        known.policy = this.policyValue;
        known.verdict = verdict;
      }
    }
    if (!verdict.allowed) this.options.log.denied(dest, verdict.reason, verdict.detail, 'http');
    return { dest, path, verdict };
  }

  /** The destination of an absolute `http://` request target, or the reply refusing it. */
  private absoluteDestination(target: string, record = true): { dest: Destination; path: string } | RelayReply {
    let url: URL | undefined;
    try {
      url = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? new URL(target) : undefined;
    } catch {
      url = undefined;
    }
    if (!url)
      return reply(
        400,
        "mino: this is the session's egress proxy; use it as HTTP_PROXY (absolute http:// URLs, or CONNECT)\n",
      );
    if (url.protocol !== 'http:')
      return reply(400, `mino: ${url.protocol} URLs go through CONNECT, not plain forwarding\n`);
    const dest = destinationOf(url.hostname, url.port === '' ? 80 : Number(url.port));
    if (!dest) {
      if (record) this.options.log.denied(url.host.slice(0, 200), 'invalid', 'not a valid host', 'http');
      return reply(400, 'mino: not a valid host\n');
    }
    return { dest, path: `${url.pathname}${url.search}` };
  }

  /**
   * One request of a client's HTTP connection: CONNECT opens a tunnel; an absolute `http://`
   * request (a WebSocket upgrade included) is judged by the policy (its own destination, not an
   * earlier request's), the L7 gate, the rewriter and the placeholder guard, then forwarded.
   */
  private httpRequest(client: Socket, head: RequestHead): RelayDecision | Promise<RelayDecision> {
    if (head.method === 'CONNECT')
      return { kind: 'takeover', take: (_c, rest) => this.connectRequest(head.target, client, rest) };
    const target = this.judgeTarget(head.target);
    if ('kind' in target) return target;
    const { dest, verdict } = target;
    if (!verdict.allowed) return reply(403, this.denyText(dest, verdict.detail, verdict.reason !== 'host-address'));
    const outgoing: RewritableRequest = {
      dest,
      method: head.method,
      path: target.path,
      headers: endToEndHeaders(head.headers, head.upgrade),
    };
    const judged = this.options.gate?.(outgoing);
    if (judged && !judged.allow) {
      this.options.log.denied(dest, 'request', judged.reason, 'http');
      return reply(403, `mino: request blocked: ${judged.reason}\n`);
    }
    const rewriter = this.rewriters.for(dest);
    if (!rewriter) return this.forwardDecision(client, head, verdict, outgoing);
    const rewritten = rewriter(outgoing);
    return rewritten instanceof Promise
      ? rewritten.then((r) => this.forwardDecision(client, head, verdict, r))
      : this.forwardDecision(client, head, verdict, rewritten);
  }

  private forwardDecision(
    client: Socket,
    head: RequestHead,
    verdict: Extract<Verdict, { allowed: true }>,
    outgoing: RewritableRequest,
  ): RelayDecision {
    const { dest } = outgoing;
    const guard = this.options.requestGuard?.(outgoing);
    if (guard && !guard.allow) {
      this.options.log.denied(dest, 'credential-leak', guard.reason, 'http');
      return reply(403, `mino: request to ${formatDestination(dest)} blocked: ${guard.reason}\n`);
    }
    const body = head.body.kind === 'none' ? undefined : this.options.bodyGuard?.(dest);
    return {
      kind: 'forward',
      key: `${dest.host} ${dest.port}`,
      ...(body && {
        bodyScan: {
          scanner: new BodyScanner(body.needles),
          refused: (found: number) => {
            this.options.log.denied(dest, 'credential-leak', body.reason(found), 'http');
            return reply(403, `mino: request to ${formatDestination(dest)} blocked: ${body.reason(found)}\n`);
          },
        },
      }),
      head: requestHeadText(outgoing.method, outgoing.path, head, outgoing.headers),
      connect: async () => {
        // read by the relay through 'data' events, never wrapped in TLS: bulk reads
        const upstream = await this.dial(dest, verdict, 'http', false, true);
        this.track(dest, [client, upstream]);
        return upstream;
      },
      failed: (err) =>
        err instanceof DialError && err.failure === 'host-address'
          ? reply(403, this.denyText(dest, err.message.replace(/^refused: /, ''), false))
          : reply(502, `mino: ${err.message}\n`),
      answered: () => this.options.log.allowed(dest, verdict.rule),
    };
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

/** A reply the proxy makes itself. */
function reply(status: number, text: string): RelayReply {
  return { kind: 'reply', status, text };
}
