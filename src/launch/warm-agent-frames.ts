/**
 * The framing of the warm agent's socket (pool/warm-agent-script.ts is the other end): one type
 * byte, a 4-byte big-endian payload length, the payload.
 */

/** Largest payload accepted from an agent (a chunk of output is far smaller). */
const MAX_FRAME = 16 * 1024 * 1024;

/** One frame: its type letter and payload. */
export interface Frame {
  type: string;
  body: Buffer;
}

/** Encodes one frame (`payload` as bytes, text, or JSON for anything else). */
export function encodeFrame(type: string, payload: Buffer | string | object): Buffer {
  const body = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames, chunk by chunk; throws on a frame larger than MAX_FRAME. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Adds a chunk; returns the frames it completed. */
  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 5) {
      const len = this.buf.readUInt32BE(1);
      if (len > MAX_FRAME) throw new Error(`frame of ${len} bytes is too large`);
      if (this.buf.length < 5 + len) break;
      out.push({ type: String.fromCharCode(this.buf[0] ?? 0), body: this.buf.subarray(5, 5 + len) });
      this.buf = this.buf.subarray(5 + len);
    }
    return out;
  }
}
