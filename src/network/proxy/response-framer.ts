import { ChunkedScanner } from './chunked-scanner.js';
import { MAX_HEAD, parseResponseHead } from './http-head.js';

/**
 * Finds where one response of a server ends in the bytes it sends, so the relay can pass them on
 * untouched and know when the connection is free for the next request: interim (1xx) responses
 * are skipped to the final one, its body is counted (Content-Length), scanned (chunked) or runs to
 * the server's close. A `101 Switching Protocols` to an Upgrade request ends HTTP on the
 * connection. The data of a body is never copied or decoded.
 */

/** What {@link ResponseFramer.feed} found. */
export interface FrameStep {
  /** Index in the chunk just after the response's end; -1 when it goes on past the chunk. */
  end: number;
  /** The server switched protocols (101 to an Upgrade request): everything after `end` is raw. */
  upgraded: boolean;
}

const HEAD = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;
const DONE = 4;

const NOT_ENDED: FrameStep = { end: -1, upgraded: false };

/** A response the relay cannot frame (the connection is not reused; the client is closed). */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FramingError';
  }
}

/** See the module comment. One framer per upstream connection, {@link reset} per request. */
export class ResponseFramer {
  private state = HEAD;
  private pending: Buffer | undefined;
  private remaining = 0;
  private chunked: ChunkedScanner | undefined;
  private method = 'GET';
  private upgradeAsked = false;
  /** The server said it closes after this response (or its body runs to the close). */
  closeAfter = false;
  /** Bytes of this response seen so far (0: nothing was passed on yet). */
  seen = 0;
  /** The final status, once its head is read. */
  status = 0;

  /** Expects the response to a request of `method` (`upgrade`: an Upgrade request). */
  reset(method: string, upgrade: boolean): void {
    this.state = HEAD;
    this.pending = undefined;
    this.method = method;
    this.upgradeAsked = upgrade;
    this.closeAfter = false;
    this.seen = 0;
    this.status = 0;
    this.chunked = undefined;
  }

  /** True while the body runs until the server closes. */
  get untilClose(): boolean {
    return this.state === UNTIL_CLOSE;
  }

  /** True once the response ended. */
  get done(): boolean {
    return this.state === DONE;
  }

  /** Scans the next bytes of the response; throws {@link FramingError} on a malformed one. */
  feed(chunk: Buffer): FrameStep {
    this.seen += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case LENGTH: {
          const take = Math.min(this.remaining, chunk.length - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = DONE;
            return { end: i, upgraded: false };
          }
          break;
        }
        case CHUNKED: {
          let end: number;
          try {
            end = this.chunked!.feed(chunk, i);
          } catch (err) {
            throw new FramingError(`malformed chunked response: ${(err as Error).message}`);
          }
          if (end === -1) return NOT_ENDED;
          this.state = DONE;
          return { end, upgraded: false };
        }
        case UNTIL_CLOSE:
          return NOT_ENDED;
        case HEAD: {
          const step = this.head(chunk, i);
          if (step === undefined) return NOT_ENDED;
          if ('upgraded' in step) return step;
          i = step.next;
          break;
        }
        default:
          // bytes after the end: not this response's
          return { end: i, upgraded: false };
      }
    }
    if (this.state === LENGTH && this.remaining === 0) {
      this.state = DONE;
      return { end: i, upgraded: false };
    }
    return this.state === DONE ? { end: i, upgraded: false } : NOT_ENDED;
  }

  /** Reads a head from `chunk` at `i`: undefined (needs more), the index after it, or an upgrade. */
  private head(chunk: Buffer, i: number): { next: number } | FrameStep | undefined {
    let buf = chunk;
    let from = i;
    let base = 0;
    if (this.pending) {
      base = this.pending.length;
      buf = Buffer.concat([this.pending, chunk.subarray(i)]);
      from = 0;
      // the head may end inside the pending bytes' last 3 and this chunk's first ones
    }
    const at = buf.indexOf('\r\n\r\n', Math.max(from, 0), 'latin1');
    if (at === -1) {
      if (buf.length - from > MAX_HEAD) throw new FramingError('response head too large');
      this.pending = from === 0 ? buf : buf.subarray(from);
      return undefined;
    }
    this.pending = undefined;
    const head = parseResponseHead(buf.toString('latin1', from, at), this.method);
    if (!head) throw new FramingError('not an HTTP/1.x response');
    // index in `chunk` just after the head
    const next = this.pendingBase(base, i, at + 4);
    if (head.status >= 100 && head.status < 200) {
      if (head.status === 101) {
        if (!this.upgradeAsked) throw new FramingError('101 to a request that asked no upgrade');
        this.status = 101;
        this.state = DONE;
        return { end: next, upgraded: true };
      }
      return { next };
    }
    this.status = head.status;
    this.closeAfter = head.close;
    if (head.body.kind === 'none') this.state = DONE;
    else if (head.body.kind === 'length') {
      this.remaining = head.body.length;
      this.state = head.body.length === 0 ? DONE : LENGTH;
    } else if (head.body.kind === 'chunked') {
      this.chunked = new ChunkedScanner();
      this.state = CHUNKED;
    } else this.state = UNTIL_CLOSE;
    return { next };
  }

  /** Index in the current chunk of `offset` in the joined buffer (pending bytes + chunk from `i`). */
  private pendingBase(base: number, i: number, offset: number): number {
    return base === 0 ? offset : i + offset - base;
  }
}
