/**
 * Finds where a chunked message body (RFC 9112 §7.1) ends, chunk by chunk as bytes arrive, without
 * copying or decoding its data: the relay forwards the bytes it was given as they are and only
 * needs to know where the body stops (the next message starts there). Strict: a size line that is
 * not hex (with an optional extension), a chunk not followed by CRLF, or a bare LF is an error, so
 * the proxy and the server behind it never disagree on where a request ends.
 */

/** Longest chunk-size line (size and extensions) or trailer line accepted. */
const MAX_LINE = 4096;

/** A malformed chunked body. */
export class ChunkedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkedError';
  }
}

const SIZE = 0;
const DATA = 1;
const DATA_CR = 2;
const DATA_LF = 3;
const TRAILER = 4;
const DONE = 5;

/** Chunk-size line: 1-15 hex digits (a safe integer), optional `;extension`, then CR. */
const SIZE_LINE = /^([0-9a-fA-F]{1,15})(?:[ \t]*;[\t\x20-\x7e]*)?\r$/;
/** A trailer field line (then CR). */
const TRAILER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*\r$/;

/** See the module comment. One scanner per body. */
export class ChunkedScanner {
  private state = SIZE;
  private line = '';
  private remaining = 0;
  private trailers = 0;

  /**
   * @param allowTrailers false: a trailer field is an error (requests: nothing would check it).
   */
  constructor(private readonly allowTrailers = true) {}

  /** True once the last chunk and the trailer section were seen. */
  get done(): boolean {
    return this.state === DONE;
  }

  /**
   * Scans `buf` from `start`; returns the index just after the body's end, or -1 when the body
   * goes on past `buf`. `onData` gets the ranges of chunk data (the decoded body) as they pass.
   * Throws {@link ChunkedError} on malformed framing.
   */
  feed(buf: Buffer, start = 0, onData?: (from: number, to: number) => void): number {
    let i = start;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case DATA: {
          const take = Math.min(this.remaining, n - i);
          if (onData !== undefined && take > 0) onData(i, i + take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = DATA_CR;
          break;
        }
        case DATA_CR:
          if (buf[i] !== 13) throw new ChunkedError('chunk data not followed by CRLF');
          i++;
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i] !== 10) throw new ChunkedError('chunk data not followed by CRLF');
          i++;
          this.state = SIZE;
          break;
        case SIZE:
        case TRAILER: {
          const lf = buf.indexOf(10, i);
          const stop = lf === -1 ? n : lf;
          this.line += buf.toString('latin1', i, stop);
          if (this.line.length > MAX_LINE) throw new ChunkedError('chunk line too long');
          if (lf === -1) return -1;
          i = lf + 1;
          const line = this.line;
          this.line = '';
          if (this.state === SIZE) {
            const m = SIZE_LINE.exec(line);
            if (!m) throw new ChunkedError('bad chunk size line');
            this.remaining = Number.parseInt(m[1]!, 16);
            this.state = this.remaining === 0 ? TRAILER : DATA;
          } else if (line === '\r') {
            this.state = DONE;
            return i;
          } else {
            if (!this.allowTrailers) throw new ChunkedError('trailer fields are not forwarded');
            if (!TRAILER_LINE.test(line) || ++this.trailers > 100) throw new ChunkedError('bad trailer field');
          }
          break;
        }
        default:
          return i;
      }
    }
    return -1;
  }
}
