/**
 * Looks for credential placeholders in a request body as it streams through the proxy, without
 * holding the body: each piece of body data is searched (native `indexOf`), and so is the seam
 * with the piece before it (the last `longest - 1` bytes of what was seen, joined to the first
 * ones of the new piece), so a placeholder split across pieces is found too.
 */

/** See the module comment. One scanner per request body. */
export class BodyScanner {
  private readonly overlap: number;
  private tail: Buffer = Buffer.alloc(0);

  /** `needles`: the texts to find (non-empty). */
  constructor(private readonly needles: readonly Buffer[]) {
    this.overlap = Math.max(0, ...needles.map((n) => n.length)) - 1;
  }

  /** The index of the first needle the body holds so far (this piece included), or -1. */
  scan(data: Buffer): number {
    for (let i = 0; i < this.needles.length; i++) if (data.indexOf(this.needles[i]!) !== -1) return i;
    if (this.tail.length > 0) {
      const seam = Buffer.concat([this.tail, data.subarray(0, this.overlap)]);
      for (let i = 0; i < this.needles.length; i++) if (seam.indexOf(this.needles[i]!) !== -1) return i;
    }
    if (data.length >= this.overlap) this.tail = Buffer.from(data.subarray(data.length - this.overlap));
    else {
      const joined = Buffer.concat([this.tail, data]);
      this.tail = joined.subarray(Math.max(0, joined.length - this.overlap));
    }
    return -1;
  }
}
