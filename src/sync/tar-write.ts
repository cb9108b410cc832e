import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A tar archive (POSIX ustar with GNU long names, what GNU and BusyBox tar both read) written
 * as a stream of chunks: directories, regular files (streamed from disk) and symlinks (their
 * target, never followed). Owner and group are 0: the extracting side owns what it extracts.
 */

/** One entry to archive, relative to the root the archive is made from. */
export interface TarEntry {
  /** `/`-separated relative path, no `.`/`..` components. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits (07777). */
  mode: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Size in bytes (files). */
  size?: number;
  /** Link target (symlinks). */
  target?: string;
  /** The file's content instead of reading it from the root (small generated files). */
  content?: Buffer;
  /** Called with the sha256 (hex) of the file's content as archived (files read from the root). */
  onHash?: (hash: string) => void;
}

/** Files up to this size are read in one call (most of a source tree); bigger ones are streamed. */
const SMALL = 1 << 20;

/** Reads up to `size` bytes of a small file in one go (zero-padded when it shrank meanwhile). */
function readSmall(path: string, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const fd = openSync(path, 'r');
  try {
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, mode: number, size: number, mtime: number, link = ''): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(0, 8), 108, 'ascii');
  b.write(octal(0, 8), 116, 'ascii');
  b.write(octal(size, 12), 124, 'ascii');
  b.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(type, 156, 'ascii');
  b.write(link, 157, 100, 'utf8');
  b.write('ustar  \0', 257, 'ascii'); // GNU magic: long names come as ././@LongLink entries
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** A GNU long-name (`L`) or long-link (`K`) entry carrying `value`. */
function longEntry(kind: 'L' | 'K', value: string): Buffer[] {
  const data = Buffer.from(`${value}\0`, 'utf8');
  return [header('././@LongLink', kind, 0, data.length, 0), data, padding(data.length)];
}

function headersOf(entry: TarEntry, size: number): Buffer[] {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const out: Buffer[] = [];
  if (Buffer.byteLength(name) > 99) out.push(...longEntry('L', name));
  const link = entry.target ?? '';
  if (Buffer.byteLength(link) > 99) out.push(...longEntry('K', link));
  const type = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
  out.push(header(name.slice(0, 99), type, entry.mode, size, entry.mtime, link.slice(0, 99)));
  return out;
}

/**
 * The archive of `entries` (files read from `root` as they are written). A file whose size
 * changed since it was listed is cut or zero-padded to the listed size, so the archive stays valid.
 */
export async function* tarStream(root: string, entries: Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.type !== 'file') {
      yield Buffer.concat(headersOf(entry, 0));
      continue;
    }
    const size = entry.content?.length ?? entry.size ?? 0;
    yield Buffer.concat(headersOf(entry, size));
    if (entry.content) {
      yield entry.content;
    } else if (size <= SMALL) {
      const data = size > 0 ? readSmall(join(root, entry.path), size) : Buffer.alloc(0);
      entry.onHash?.(createHash('sha256').update(data).digest('hex'));
      if (size > 0) yield data;
    } else {
      const hash = createHash('sha256');
      let sent = 0;
      for await (const chunk of createReadStream(join(root, entry.path), { end: size - 1, highWaterMark: 1 << 20 })) {
        const buf = chunk as Buffer;
        const part = buf.subarray(0, size - sent);
        sent += part.length;
        hash.update(part);
        yield part;
        if (sent >= size) break;
      }
      if (sent < size) {
        const zeros = Buffer.alloc(size - sent);
        hash.update(zeros);
        yield zeros;
      }
      entry.onHash?.(hash.digest('hex'));
    }
    const pad = padding(size);
    if (pad.length > 0) yield pad;
  }
  yield Buffer.alloc(BLOCK * 2);
}
