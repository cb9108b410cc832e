import type { Socket } from 'node:net';
import type { Destination } from '../destination.js';
import { ruleMatches } from '../policy.js';
import type { Rule } from '../rule.js';

/**
 * The per-connection pipeline of the egress proxy, and its extension points.
 *
 * Every client connection goes: front end (HTTP proxy or SOCKS5) → destination → policy
 * decision (policy.ts, by name, no DNS) → then, for allowed destinations:
 * - a tunnel (`CONNECT`, SOCKS5 `CONNECT`): each {@link TunnelHandler} in turn may take it over;
 *   the last one is always the raw relay (dial, say "established", copy bytes both ways);
 * - a plain-HTTP request (absolute `http://` URL): the {@link RequestRewriter} registered for the
 *   destination, if any, may change method, path and headers before it is sent upstream.
 *
 * The TLS-terminating mode (tls-terminator.ts; a secret swapped in at the proxy for one host
 * only, L7 rules on method and path) is a TunnelHandler built with `terminates(dest)` (default: a
 * rewriter is registered for dest) and a {@link RequestGate} (default: allow all). It takes over
 * such tunnels, answers `established()`, terminates the client's TLS with a per-session CA
 * (tls-ca.ts), parses each request (http-relay.ts), asks the gate (a denied request gets
 * 403, a `denied` record, and the connection stays usable), runs the rewriter, and re-originates
 * TLS (verified) to `dial()`'s socket. Nothing else of the proxy changes: the policy decision,
 * the address guard in `dial()`, the records and the live allow/deny all stay where they are.
 */

/** A request as a rewriter sees it. */
export interface RewritableRequest {
  /** Where it goes (the rewriter cannot change that: the policy decided on it). */
  readonly dest: Destination;
  method: string;
  /** Origin-form path and query, e.g. `/v1/messages?x=1`. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | string[]>;
}

/** A verdict on one terminated request (L7 rules). */
export type RequestVerdict = { allow: true } | { allow: false; reason: string };

/** Judges each request of a terminated connection before it is rewritten and sent. */
export type RequestGate = (request: RewritableRequest) => RequestVerdict;

/** The gate that lets every request through (no L7 rules). */
export const allowAllRequests: RequestGate = () => ({ allow: true });

/** Changes a request for one destination (e.g. puts a real credential in place of a placeholder). */
export type RequestRewriter = (request: RewritableRequest) => RewritableRequest | Promise<RewritableRequest>;

/** Rewriters by rule: the first whose rule matches the destination applies. */
export class RewriterRegistry {
  private readonly entries: Array<{ rule: Rule; rewriter: RequestRewriter }> = [];

  /** Registers `rewriter` for the destinations `rule` covers. */
  add(rule: Rule, rewriter: RequestRewriter): void {
    this.entries.push({ rule, rewriter });
  }

  /** The rewriter for a destination, if any. */
  for(dest: Destination): RequestRewriter | undefined {
    return this.entries.find((e) => ruleMatches(e.rule, dest))?.rewriter;
  }
}

/** An allowed tunnel, before anything was answered to the client. */
export interface Tunnel {
  readonly dest: Destination;
  /** The client connection; nothing has been written to it yet. */
  readonly client: Socket;
  /** Bytes the client sent after its request, to forward first. */
  readonly head: Buffer;
  /** The rewriter registered for this destination, if any. */
  readonly rewriter: RequestRewriter | undefined;
  /** Answers the client that the tunnel is up (HTTP 200, SOCKS5 success). */
  established(): void;
  /** Answers the client that it failed (HTTP 502, SOCKS5 failure) and closes it. */
  failed(reason: string): void;
  /**
   * Connects to the destination, with DNS on the host and the address guard. `bulk`: large reads
   * (dialer.ts bulkReads), for a socket read through 'data' events only, never one TLS wraps.
   */
  dial(bulk?: boolean): Promise<Socket>;
}

/** A stage that may take over an allowed tunnel. */
export interface TunnelHandler {
  /** True when it took the tunnel over (it owns the client from then on). */
  handle(tunnel: Tunnel): boolean;
}

/** Copies bytes both ways until either side ends; errors close both. */
function splice(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** The last handler: dial, say "established", relay raw bytes. */
export const rawRelay: TunnelHandler = {
  handle(tunnel: Tunnel): boolean {
    const { client } = tunnel;
    client.pause();
    tunnel.dial(true).then(
      (upstream) => {
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        tunnel.established();
        if (tunnel.head.length > 0) upstream.write(tunnel.head);
        splice(client, upstream);
        client.resume();
      },
      (err: Error) => tunnel.failed(err.message),
    );
    return true;
  },
};
