/**
 * A streaming reader of tar archives (ustar, GNU long names, pax `path`/`linkpath`), as GNU and
 * BusyBox tar write them. Several archives one after another (what `xargs tar -c` gives) read as
 * one. It only parses: what to do with each entry is the caller's (see bring-back.ts).
 */

/** An entry's header. */
export interface TarHeader {
  /** Path as archived, `./` and trailing `/` removed. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  mtime: number;
  /** Link target (symlinks). */
  target: string;
}

/** What the reader calls: an entry starts, its data comes in chunks, it ends. */
export interface TarSink {
  entry(header: TarHeader): void | Promise<void>;
  data(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

const BLOCK = 512;

function str(b: Buffer, start: number, len: number): string {
  const raw = b.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
}

function num(b: Buffer, start: number, len: number): number {
  const raw = b.subarray(start, start + len);
  if ((raw[0] ?? 0) & 0x80) {
    let v = 0;
    for (let i = 1; i < raw.length; i++) v = v * 256 + (raw[i] ?? 0);
    return v;
  }
  const text = str(b, start, len).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function cleanPath(path: string): string {
  let p = path;
  while (p.startsWith('./')) p = p.slice(2);
  return p.replace(/\/+$/, '');
}

function paxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(i, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Parses a tar stream chunk by chunk (`push`), calling `sink`; `finish` at the end of input. */
export class TarReader {
  private buf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private pad = 0;
  private meta: 'L' | 'K' | 'x' | undefined;
  private metaData: Buffer[] = [];
  private longName: string | undefined;
  private longLink: string | undefined;
  private pax: Record<string, string> = {};
  private inEntry = false;

  constructor(private readonly sink: TarSink) {}

  /** Feeds the next chunk of the archive. */
  async push(chunk: Buffer): Promise<void> {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.remaining > 0) {
        if (this.buf.length === 0) return;
        const part = this.buf.subarray(0, Math.min(this.remaining, this.buf.length));
        this.buf = this.buf.subarray(part.length);
        this.remaining -= part.length;
        if (this.meta) this.metaData.push(Buffer.from(part));
        else await this.sink.data(part);
        if (this.remaining > 0) return;
        await this.entryDone();
      }
      if (this.pad > 0) {
        const n = Math.min(this.pad, this.buf.length);
        this.buf = this.buf.subarray(n);
        this.pad -= n;
        if (this.pad > 0) return;
      }
      if (this.buf.length < BLOCK) return;
      const block = this.buf.subarray(0, BLOCK);
      this.buf = this.buf.subarray(BLOCK);
      if (block.every((byte) => byte === 0)) continue; // end of one archive (another may follow)
      await this.header(block);
    }
  }

  /** Checks the archive ended cleanly. */
  finish(): void {
    if (this.remaining > 0 || this.inEntry) throw new Error('the archive ended in the middle of an entry');
  }

  private async header(block: Buffer): Promise<void> {
    const typeflag = String.fromCharCode(block[156] ?? 0x30);
    const size = num(block, 124, 12);
    this.remaining = size;
    this.pad = size % BLOCK === 0 ? 0 : BLOCK - (size % BLOCK);
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x') {
      this.meta = typeflag;
      this.metaData = [];
      if (size === 0) await this.entryDone();
      return;
    }
    if (typeflag === 'g') {
      this.meta = 'x';
      this.metaData = [];
      this.pax = {};
      if (size === 0) await this.entryDone();
      return;
    }
    const prefix = str(block, 345, 155);
    const name = this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${str(block, 0, 100)}` : str(block, 0, 100));
    const target = this.pax.linkpath ?? this.longLink ?? str(block, 157, 100);
    this.longName = undefined;
    this.longLink = undefined;
    const mtime = this.pax.mtime === undefined ? num(block, 136, 12) : Math.floor(Number(this.pax.mtime));
    this.pax = {};
    const type =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'dir'
          : typeflag === '2'
            ? 'symlink'
            : 'other';
    this.meta = undefined;
    this.inEntry = true;
    await this.sink.entry({ path: cleanPath(name), type, mode: num(block, 100, 8) & 0o7777, size, mtime, target });
    if (size === 0) await this.entryDone();
  }

  private async entryDone(): Promise<void> {
    if (this.meta) {
      const data = Buffer.concat(this.metaData);
      if (this.meta === 'L') this.longName = str(data, 0, data.length);
      else if (this.meta === 'K') this.longLink = str(data, 0, data.length);
      else this.pax = { ...this.pax, ...paxRecords(data) };
      this.meta = undefined;
      return;
    }
    this.inEntry = false;
    await this.sink.end();
  }
}
