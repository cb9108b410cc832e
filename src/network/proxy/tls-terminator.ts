import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket, createSecureContext, connect as tlsConnect } from 'node:tls';
import { destinationOf, formatDestination, type Destination } from '../destination.js';
import type { DenyReason } from '../policy.js';
import { endToEndHeaders } from './egress-server.js';
import { requestHeadText, type RequestHead } from './http-head.js';
import { HttpRelay, type RelayDecision, type RelayReply } from './http-relay.js';
import {
  allowAllRequests,
  type RequestGate,
  type RequestVerdict,
  type RewritableRequest,
  type Tunnel,
  type TunnelHandler,
} from './pipeline.js';
import type { LeafCertificates } from './tls-ca.js';
import type { BodyGuard } from './tls-credentials.js';
import { BodyScanner } from './body-scanner.js';

/**
 * The TLS-terminating tunnel handler (see pipeline.ts). For a destination it terminates, it dials
 * first (a refused or failed dial answers the tunnel as the raw relay would), answers
 * `established()`, then speaks TLS to the client with a leaf certificate of the session CA
 * (ALPN: http/1.1 only) and relays the decrypted requests (http-relay.ts). Each request
 * of the connection (keep-alive included) is checked in turn: its Host must be the tunnel's
 * destination, the gate (L7 rules) must allow it, the rewriter (credentials) runs, and the
 * after-rewrite check (no placeholder left for a host it is not bound to) must pass; a refused
 * request gets a 403 and a `denied` record, and the connection stays usable. Allowed requests go
 * upstream over TLS verified against the given CAs, on one kept-alive connection of this tunnel
 * (the first one is the dialled socket; TLS sessions are resumed per host). Responses stream back
 * byte for byte as they come (SSE, chunked); WebSocket upgrades are relayed once both sides agreed.
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
  /** What a request body to a destination must not carry (placeholders of other hosts). */
  bodyGuard?: (dest: Destination) => BodyGuard | undefined;
  /** CA certificates (PEM) upstream servers are verified against (default: node's). */
  upstreamCa?: string | string[];
  /** Records a refused request. */
  denied(dest: Destination, reason: DenyReason, detail: string): void;
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

/** Builds the terminating handler (see the module comment). */
export function terminatingHandler(options: TerminatorOptions): TunnelHandler & { close(): void; prepare(): void } {
  const terminates = (tunnel: Tunnel): boolean =>
    options.terminates ? options.terminates(tunnel.dest) : tunnel.rewriter !== undefined;
  const gate = options.gate ?? allowAllRequests;
  const open = new Set<TLSSocket>();
  /** The last TLS session of each upstream host, resumed by its next connection. */
  const sessions = new Map<string, Buffer>();
  /**
   * The upstream TLS context, made once: the CAs are the host's whole trust store plus
   * network.upstream_ca, and parsing them took ~170 ms per connection when node made a context
   * for each `tls.connect` (every terminated connection paid it on its first request).
   */
  let upstreamContext: SecureContext | undefined;
  const upstreamContextOf = (): SecureContext => {
    upstreamContext ??= createSecureContext(options.upstreamCa !== undefined ? { ca: options.upstreamCa } : {});
    return upstreamContext;
  };

  const upstreamTls = (dest: Destination, raw: Socket): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const key = formatDestination(dest);
      const session = sessions.get(key);
      // highWaterMark: known to node's tls.connect (passed to its socket), missing from its types.
      const secure = tlsConnect({
        socket: raw,
        host: dest.host,
        ...(dest.kind === 'name' ? { servername: dest.host } : {}),
        ALPNProtocols: ['http/1.1'],
        ...(session ? { session } : {}),
        ...({ highWaterMark: HIGH_WATER_MARK } as object),
        secureContext: upstreamContextOf(),
      });
      secure.setNoDelay(true);
      secure.on('session', (s: Buffer) => {
        if (sessions.size > 256) sessions.clear();
        sessions.set(key, s);
      });
      secure.once('secureConnect', () => {
        secure.removeListener('error', reject);
        resolve(secure);
      });
      secure.once('error', (err) => {
        sessions.delete(key);
        raw.destroy();
        reject(new Error(`TLS to ${key} failed: ${err.message}`));
      });
    });

  const refuse = (dest: Destination, reason: DenyReason, detail: string): RelayReply => {
    options.denied(dest, reason, detail);
    return { kind: 'reply', status: 403, text: `mino: request to ${formatDestination(dest)} blocked: ${detail}\n` };
  };

  /** After the rewrite: the leak check, then the request to send on the tunnel's connection. */
  const forward = (tunnel: Tunnel, head: RequestHead, request: RewritableRequest, upstream: () => Promise<Socket>) => {
    const after = options.afterRewrite?.(request) ?? { allow: true };
    if (!after.allow) return refuse(tunnel.dest, 'credential-leak', after.reason);
    const body = head.body.kind === 'none' ? undefined : options.bodyGuard?.(tunnel.dest);
    const decision: RelayDecision = {
      kind: 'forward',
      key: 'tunnel',
      ...(body && {
        bodyScan: {
          scanner: new BodyScanner(body.needles),
          refused: (found: number) => refuse(tunnel.dest, 'credential-leak', body.reason(found)),
        },
      }),
      head: requestHeadText(request.method, request.path, head, request.headers),
      connect: upstream,
      failed: (err) => ({ kind: 'reply', status: 502, text: `mino: ${err.message}\n` }),
    };
    return decision;
  };

  /** One request of a terminated connection: its Host, the gate, the rewriter, the leak check. */
  const judge = (
    tunnel: Tunnel,
    head: RequestHead,
    upstream: () => Promise<Socket>,
    accepted: { host?: string },
  ): RelayDecision | Promise<RelayDecision> => {
    const { dest } = tunnel;
    let path = head.target;
    const host = head.headers.host;
    let hostValue = typeof host === 'string' ? host : '';
    if (!path.startsWith('/')) {
      // absolute-form: its authority must be the tunnel's destination too
      try {
        const url = new URL(path);
        if (url.protocol !== 'https:') return refuse(dest, 'request', `${url.protocol} URL on a TLS connection`);
        hostValue = url.host;
        path = `${url.pathname}${url.search}`;
      } catch {
        return refuse(dest, 'request', 'request target is not a path');
      }
    }
    const asked = hostValue === accepted.host ? dest : hostHeaderDestination(hostValue, 443);
    if (!asked || !sameDestination(asked, dest))
      return refuse(
        dest,
        'request',
        `request for ${hostValue.slice(0, 100) || '(no Host)'} on a connection to ${formatDestination(dest)}`,
      );
    accepted.host = hostValue;
    const request: RewritableRequest = {
      dest,
      method: head.method,
      path,
      headers: endToEndHeaders(head.headers, head.upgrade),
    };
    const verdict: RequestVerdict = gate(request);
    if (!verdict.allow) return refuse(dest, 'request', verdict.reason);
    if (!tunnel.rewriter) return forward(tunnel, head, request, upstream);
    const rewritten = tunnel.rewriter(request);
    return rewritten instanceof Promise
      ? rewritten.then((r) => forward(tunnel, head, r, upstream))
      : forward(tunnel, head, rewritten, upstream);
  };

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
          // The first upstream connection is the dialled one, its TLS handshake made at once, beside
          // the client's (the first request does not wait for it after its own); a later one (the
          // server closed it) dials again. Its failure is the first request's reply.
          let early: Promise<Socket> | undefined = upstreamTls(dest, first);
          early.catch(() => undefined);
          const upstream = async (): Promise<Socket> => {
            const ready = early;
            early = undefined;
            if (ready) {
              const socket = await ready;
              // the server may have closed it while the client was still to send its first request
              if (!socket.destroyed && socket.writable && !socket.readableEnded) return socket;
              socket.destroy();
            }
            return upstreamTls(dest, await tunnel.dial());
          };
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
          const end = (): void => {
            open.delete(secure);
            early?.then(
              (unused) => unused.destroy(),
              () => undefined,
            );
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
          // the Host text last found to be the tunnel's destination (not parsed again per request)
          const accepted: { host?: string } = {};
          new HttpRelay(secure, (head) => judge(tunnel, head, upstream, accepted));
          client.resume();
        },
        (err: Error) => tunnel.failed(err.message),
      );
      return true;
    },
    close(): void {
      for (const s of open) s.destroy();
    },
    /** Makes the upstream TLS context now (at start, before the session's first request). */
    prepare(): void {
      upstreamContextOf();
    },
  };
}
