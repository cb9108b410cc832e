import type { Duplex } from 'node:stream';
import type { BodyScanner } from './body-scanner.js';
import { ChunkedError, ChunkedScanner } from './chunked-scanner.js';
import { MAX_HEAD, parseRequestHead, type RequestHead } from './http-head.js';
import { FramingError, ResponseFramer } from './response-framer.js';

/**
 * One client connection speaking HTTP/1.x to the proxy (plain-HTTP forwarding, or the decrypted
 * side of a terminated TLS tunnel), relayed with the least work per request: each request HEAD is
 * parsed here (strictly, http-head.ts) and handed to `decide` (the policy, the L7 gate, the
 * rewriter, the placeholder guard: every request of a kept-alive connection, none riding on an
 * earlier one); an allowed request's head goes upstream re-serialised, its body as the bytes the
 * client sent (framed, never decoded), and the response comes back byte for byte, its end found
 * by the framer (response-framer.ts) so the connection can carry the next request. One upstream
 * connection per client connection, reused while the requests go to the same place (`key`); a
 * request for elsewhere closes it and opens another. Requests are taken one at a time: a
 * pipelined request waits for the response before it is read and judged.
 */

/** A reply the proxy makes itself (a refusal, an error). */
export interface RelayReply {
  kind: 'reply';
  status: number;
  text: string;
}

/** Where and what to send upstream. */
export interface RelayForward {
  kind: 'forward';
  /** Requests with the same key may share one upstream connection. */
  key: string;
  /** The request head to send (request line, fields, the empty line). */
  head: string;
  /** Opens the upstream connection. */
  connect(): Promise<Duplex>;
  /** The reply when connect() failed. */
  failed(err: Error): RelayReply;
  /** Called once the response's head arrived (records). */
  answered?(): void;
  /** Searches the body as it streams; a find stops the request (and gets `refused`'s reply). */
  bodyScan?: { scanner: BodyScanner; refused(found: number): RelayReply };
}

/** The connection is someone else's from here (CONNECT, WebSocket on plain HTTP). */
interface RelayTakeover {
  kind: 'takeover';
  /** Takes the client; `rest`: bytes it sent after the head. */
  take(client: Duplex, rest: Buffer): void;
}

/** What to do with one request. */
export type RelayDecision = RelayReply | RelayForward | RelayTakeover;

/** Judges one request head. */
export type RelayDecide = (head: RequestHead) => RelayDecision | Promise<RelayDecision>;

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
};

/** An HTTP/1.1 reply with a text body (`close`: the connection closes after it). */
function replyText(status: number, text: string, close: boolean): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${close ? 'Connection: close\r\n' : ''}\r\n${text}`;
}

/** Largest body of a refused request read and dropped to keep the connection (else it closes). */
const MAX_DISCARD = 1024 * 1024;

/** Idle time of a kept-alive client connection between requests before it is closed. */
const IDLE_MS = 60_000;

const HEAD = 0;
const DECIDING = 1;
const BODY = 2;
const WAITING = 3;
const TUNNEL = 4;
const CLOSED = 5;

interface Upstream {
  key: string;
  socket: Duplex;
  framer: ResponseFramer;
  /** Not to be reused (the server closes, or sent bytes nobody asked for). */
  spent: boolean;
}

/** See the module comment. Starts reading at once. */
export class HttpRelay {
  private state = HEAD;
  private pending: Buffer | undefined;
  private upstream: Upstream | undefined;
  private request: RequestHead | undefined;
  private forward: RelayForward | undefined;
  private bodyLeft = 0;
  private chunked: ChunkedScanner | undefined;
  private bodyDone = true;
  private responseDone = true;
  private clientEnded = false;
  /** The body being read belongs to a refused request: read and dropped, not sent. */
  private discarding = false;

  constructor(
    private readonly client: Duplex,
    private readonly decide: RelayDecide,
    first?: Buffer,
  ) {
    if (first && first.length > 0) this.pending = first;
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    client.on('end', () => this.onClientEnd());
    client.on('close', () => this.close());
    client.on('error', () => this.close());
    // One idle timer for the connection's life, not one per request: every read and write re-arms
    // it, so it fires after IDLE_MS without traffic, and only an idle connection is closed (a
    // response slower than that is waited for: its first bytes re-arm the timer).
    client.on('timeout', () => {
      if ((this.state === HEAD && this.pending === undefined) || this.discarding) this.close();
    });
    this.idle(true);
    if (this.pending) this.nextHead();
  }

  /** Closes the client and the upstream connection. */
  close(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.client.destroy();
    this.upstream?.socket.destroy();
    this.upstream = undefined;
  }

  private idle(on: boolean): void {
    const s = this.client as Duplex & { setTimeout?: (ms: number) => unknown };
    s.setTimeout?.(on ? IDLE_MS : 0);
  }

  private onClientData(chunk: Buffer): void {
    switch (this.state) {
      case BODY:
        this.body(chunk);
        return;
      case HEAD:
        this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
        this.nextHead();
        return;
      case TUNNEL:
        if (this.upstream && !this.upstream.socket.write(chunk)) this.backpressure(this.client, this.upstream.socket);
        return;
      case CLOSED:
        return;
      default:
        // DECIDING, WAITING: keep it for later, read no more meanwhile
        this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
        this.client.pause();
    }
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.state === TUNNEL) {
      this.upstream?.socket.end();
      return;
    }
    if (this.state === HEAD) {
      if (this.pending === undefined) this.finish();
      else this.nextHead();
    } else if (this.state === BODY) {
      // the body can never be complete
      this.close();
    }
  }

  /** Ends the client connection after what was written. */
  private finish(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.client.end();
    this.upstream?.socket.destroy();
    this.upstream = undefined;
  }

  /** Pauses `from` until `to` drained. */
  private backpressure(from: Duplex, to: Duplex): void {
    from.pause();
    to.once('drain', () => {
      if (this.state !== CLOSED) from.resume();
    });
  }

  /** Parses the next request head from the pending bytes, if complete. */
  private nextHead(): void {
    let buf = this.pending;
    if (!buf) return;
    // Empty lines before a request line are ignored (RFC 9112 §2.2).
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    const first = buf[start];
    if (first !== undefined && first !== 13 && !((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) {
      // not a method's first letter: no HTTP request at all (TLS sent to the proxy port, ...)
      this.refuse(400, 'mino: not an HTTP request\n', true);
      return;
    }
    const at = buf.indexOf('\r\n\r\n', start, 'latin1');
    if (at === -1) {
      if (buf.length - start > MAX_HEAD) this.refuse(431, 'mino: request head too large\n', true);
      else if (this.clientEnded) this.finish();
      return;
    }
    const head = parseRequestHead(buf.toString('latin1', start, at));
    buf = buf.subarray(at + 4);
    this.pending = buf.length > 0 ? buf : undefined;
    if ('error' in head) {
      this.refuse(head.status, `mino: ${head.error}\n`, true);
      return;
    }
    this.request = head;
    this.state = DECIDING;
    let decision: RelayDecision | Promise<RelayDecision>;
    try {
      decision = this.decide(head);
    } catch (err) {
      this.refuse(502, `mino: internal: ${(err as Error).message}\n`, true);
      return;
    }
    if (decision instanceof Promise) {
      this.client.pause();
      decision.then(
        (d) => this.apply(d),
        (err: Error) => this.refuse(502, `mino: internal: ${err.message}\n`, true),
      );
    } else this.apply(decision);
  }

  /**
   * Answers the client itself. The connection stays unless `close`, the client's wish, or a body
   * too large to read and drop (the body of a refused request is never sent anywhere).
   */
  private refuse(status: number, text: string, close: boolean): void {
    if (this.state === CLOSED) return;
    const req = this.request;
    const body = req?.body;
    const end =
      close ||
      req === undefined ||
      req.close ||
      this.clientEnded ||
      (body?.kind === 'length' && body.length > MAX_DISCARD);
    this.client.write(replyText(status, text, end));
    if (end) {
      this.finish();
      return;
    }
    if (body !== undefined && body.kind !== 'none') {
      this.discarding = true;
      this.chunked = body.kind === 'chunked' ? new ChunkedScanner() : undefined;
      this.bodyLeft = body.kind === 'length' ? body.length : 0;
      this.bodyDone = false;
      this.responseDone = true;
      this.state = BODY;
      const rest = this.pending;
      this.pending = undefined;
      if (rest) this.body(rest);
      if (this.state === BODY) this.client.resume();
      return;
    }
    this.ready();
  }

  private apply(decision: RelayDecision): void {
    if (this.state === CLOSED) return;
    if (decision.kind === 'reply') {
      this.refuse(decision.status, decision.text, false);
      return;
    }
    if (decision.kind === 'takeover') {
      this.state = CLOSED;
      this.client.removeAllListeners('data');
      this.client.removeAllListeners('end');
      this.client.removeAllListeners('timeout');
      this.idle(false);
      this.client.pause();
      this.upstream?.socket.destroy();
      this.upstream = undefined;
      const rest = this.pending ?? Buffer.alloc(0);
      this.pending = undefined;
      decision.take(this.client, rest);
      return;
    }
    this.forward = decision;
    const up = this.upstream;
    if (up && up.key === decision.key && !up.spent && !up.socket.destroyed) {
      this.send(up);
      return;
    }
    if (up) {
      up.socket.destroy();
      this.upstream = undefined;
    }
    this.client.pause();
    decision.connect().then(
      (socket) => {
        if (this.state === CLOSED) {
          socket.destroy();
          return;
        }
        this.send(this.attach(decision.key, socket));
      },
      (err: Error) => {
        const reply = decision.failed(err);
        this.refuse(reply.status, reply.text, true);
      },
    );
  }

  /** Makes `socket` this relay's upstream connection. */
  private attach(key: string, socket: Duplex): Upstream {
    const up: Upstream = { key, socket, framer: new ResponseFramer(), spent: false };
    this.upstream = up;
    socket.on('data', (chunk: Buffer) => this.onUpstreamData(up, chunk));
    socket.on('end', () => this.onUpstreamGone(up));
    socket.on('close', () => this.onUpstreamGone(up));
    socket.on('error', () => this.onUpstreamGone(up, true));
    return up;
  }

  /** Sends the request head, then its body as it comes. */
  private send(up: Upstream): void {
    const req = this.request!;
    up.framer.reset(req.method, req.upgrade);
    this.responseDone = false;
    this.bodyDone = req.body.kind === 'none';
    this.bodyLeft = req.body.kind === 'length' ? req.body.length : 0;
    this.chunked = req.body.kind === 'chunked' ? new ChunkedScanner(false) : undefined;
    this.state = this.bodyDone ? WAITING : BODY;
    const rest = this.pending;
    this.pending = undefined;
    if (this.bodyDone || !rest) {
      up.socket.write(this.forward!.head);
      if (rest) this.pending = rest;
    } else {
      // head and the body's first bytes in one write
      const cork = up.socket as Duplex & { cork(): void; uncork(): void };
      cork.cork();
      up.socket.write(this.forward!.head);
      this.body(rest);
      cork.uncork();
    }
    if (this.state === BODY) this.client.resume();
  }

  /** Passes request body bytes upstream; what follows the body waits for the next request. */
  private body(chunk: Buffer): void {
    const up = this.upstream;
    if (!up && !this.discarding) return;
    let part = chunk;
    let rest: Buffer | undefined;
    const scan = this.forward?.bodyScan;
    let found = -1;
    if (this.chunked) {
      let end: number;
      try {
        end = this.chunked.feed(
          chunk,
          0,
          scan &&
            ((from, to) => {
              if (found === -1) found = scan.scanner.scan(chunk.subarray(from, to));
            }),
        );
      } catch (err) {
        if (!(err instanceof ChunkedError)) throw err;
        this.close();
        return;
      }
      if (end !== -1) {
        this.bodyDone = true;
        if (end < chunk.length) {
          part = chunk.subarray(0, end);
          rest = chunk.subarray(end);
        }
      }
    } else {
      if (chunk.length >= this.bodyLeft) {
        this.bodyDone = true;
        if (chunk.length > this.bodyLeft) {
          part = chunk.subarray(0, this.bodyLeft);
          rest = chunk.subarray(this.bodyLeft);
        }
        this.bodyLeft = 0;
      } else this.bodyLeft -= chunk.length;
      if (scan && !this.discarding) found = scan.scanner.scan(part);
    }
    if (this.discarding) {
      if (!this.bodyDone) return;
      this.discarding = false;
      this.state = WAITING;
      if (rest) this.pending = this.pending ? Buffer.concat([rest, this.pending]) : rest;
      this.ready();
      return;
    }
    if (!up) return;
    if (found !== -1) {
      // never sent: the server gets a request cut short, the client the refusal
      this.upstream = undefined;
      up.socket.destroy();
      const reply = scan!.refused(found);
      if (up.framer.seen === 0) this.refuse(reply.status, reply.text, true);
      else this.close();
      return;
    }
    const flowing = up.socket.write(part);
    if (!this.bodyDone) {
      if (!flowing) this.backpressure(this.client, up.socket);
      return;
    }
    this.state = WAITING;
    if (rest) this.pending = this.pending ? Buffer.concat([rest, this.pending]) : rest;
    if (this.pending) this.client.pause();
    if (this.responseDone) this.ready();
  }

  private onUpstreamData(up: Upstream, chunk: Buffer): void {
    if (this.upstream !== up) return;
    if (this.state === TUNNEL) {
      if (!this.client.write(chunk)) this.backpressure(up.socket, this.client);
      return;
    }
    if (this.responseDone) {
      // bytes nobody asked for: this connection is not to be trusted with another request
      up.spent = true;
      up.socket.destroy();
      return;
    }
    const first = up.framer.seen === 0;
    let step: { end: number; upgraded: boolean };
    try {
      step = up.framer.feed(chunk);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      if (first) this.refuse(502, `mino: ${err.message}\n`, true);
      else this.close();
      return;
    }
    if (first) this.forward?.answered?.();
    const part = step.end === -1 || step.end === chunk.length ? chunk : chunk.subarray(0, step.end);
    const flowing = this.client.write(part);
    if (step.end === -1) {
      if (!flowing) this.backpressure(up.socket, this.client);
      return;
    }
    if (step.upgraded) {
      this.state = TUNNEL;
      this.responseDone = true;
      if (step.end < chunk.length) this.client.write(chunk.subarray(step.end));
      const rest = this.pending;
      this.pending = undefined;
      if (rest) up.socket.write(rest);
      if (this.clientEnded) up.socket.end();
      this.client.resume();
      return;
    }
    if (step.end < chunk.length || up.framer.closeAfter) up.spent = true;
    this.responseDone = true;
    if (!flowing) {
      // the client reads slowly: the next request waits until it took this response
      this.client.once('drain', () => {
        if (this.responseDone && this.bodyDone && this.state === WAITING) this.ready();
      });
      return;
    }
    if (this.bodyDone) this.ready();
  }

  private onUpstreamGone(up: Upstream, failed = false): void {
    if (this.upstream !== up) return;
    this.upstream = undefined;
    up.socket.destroy();
    if (this.state === CLOSED) return;
    if (this.state === TUNNEL) {
      if (failed) this.close();
      else this.finish();
      return;
    }
    if (this.responseDone) {
      // idle (the server closed a kept-alive connection), or a body the server did not wait for
      if (!this.bodyDone) this.finish();
      return;
    }
    if (up.framer.untilClose && !failed) {
      // the body ran until the close: that was its end, and the client knows it by our close
      this.responseDone = true;
      this.finish();
      return;
    }
    if (up.framer.seen === 0) {
      this.refuse(502, 'mino: the server closed the connection without a response\n', true);
      return;
    }
    this.close();
  }

  /** The exchange is over: the next request, or the end. */
  private ready(): void {
    if (this.state === CLOSED) return;
    const up = this.upstream;
    if (up?.spent) {
      up.socket.destroy();
      this.upstream = undefined;
    }
    // (A server's `Connection: close` reaches the client as it is: the client closes.)
    if (this.request?.close || (this.clientEnded && !this.pending)) {
      this.finish();
      return;
    }
    this.request = undefined;
    this.forward = undefined;
    this.state = HEAD;
    this.client.resume();
    if (this.pending) this.nextHead();
    else if (this.clientEnded) this.finish();
  }
}
