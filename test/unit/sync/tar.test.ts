import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseListing, expectedInput } from '../../../src/sync/listing.js';
import { compileExclude, isExcluded } from '../../../src/sync/sync-exclude.js';
import { TarReader, type TarHeader } from '../../../src/sync/tar-read.js';
import { tarStream } from '../../../src/sync/tar-write.js';

const root = mkdtempSync(join(tmpdir(), 'mino-tar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function roundTrip(chunks: AsyncIterable<Buffer>, split = 7): Promise<{ header: TarHeader; data: string }[]> {
  const out: { header: TarHeader; data: string }[] = [];
  let data: Buffer[] = [];
  let header: TarHeader | undefined;
  const reader = new TarReader({
    entry: (h) => {
      header = h;
      data = [];
    },
    data: (c) => {
      data.push(Buffer.from(c));
    },
    end: () => {
      out.push({ header: header!, data: Buffer.concat(data).toString() });
    },
  });
  for await (const chunk of chunks) {
    // Odd chunk sizes: headers and data cut anywhere.
    for (let i = 0; i < chunk.length; i += split) await reader.push(chunk.subarray(i, i + split));
  }
  reader.finish();
  return out;
}

describe('tar archives', () => {
  it('round-trips files, directories, symlinks, long names and modes, archives back to back', async () => {
    const long = `${'d'.repeat(60)}/${'f'.repeat(80)}.txt`;
    mkdirSync(join(root, 'd'.repeat(60)));
    writeFileSync(join(root, long), 'long content');
    writeFileSync(join(root, 'x.sh'), '#!/bin/sh\n');
    const one = tarStream(root, [
      { path: 'dir', type: 'dir', mode: 0o750, mtime: 1000 },
      { path: 'x.sh', type: 'file', mode: 0o755, mtime: 2000, size: 10 },
      { path: long, type: 'file', mode: 0o644, mtime: 3, size: 12 },
      { path: 'l', type: 'symlink', mode: 0o777, mtime: 4, target: `../${'t'.repeat(120)}` },
      { path: 'gen', type: 'file', mode: 0o600, mtime: 5, content: Buffer.from('generated') },
    ]);
    const two = tarStream(root, [{ path: 'second', type: 'file', mode: 0o600, mtime: 6, content: Buffer.from('2') }]);
    async function* both(): AsyncGenerator<Buffer> {
      yield* one;
      yield* two;
    }
    const entries = await roundTrip(both());
    expect(entries.map((e) => [e.header.path, e.header.type, e.header.mode.toString(8), e.data])).toEqual([
      ['dir', 'dir', '750', ''],
      ['x.sh', 'file', '755', '#!/bin/sh\n'],
      [long, 'file', '644', 'long content'],
      ['l', 'symlink', '777', ''],
      ['gen', 'file', '600', 'generated'],
      ['second', 'file', '600', '2'],
    ]);
    expect(entries[3]?.header.target).toBe(`../${'t'.repeat(120)}`);
    expect(entries[1]?.header.mtime).toBe(2000);
  });

  it('keeps an archive valid when a file shrank after it was listed', async () => {
    writeFileSync(join(root, 'shrunk'), 'ab');
    const entries = await roundTrip(
      tarStream(root, [{ path: 'shrunk', type: 'file', mode: 0o644, mtime: 0, size: 5 }]),
    );
    expect(entries[0]?.data).toBe('ab\0\0\0');
  });
});

describe('the engine listing', () => {
  it('reads the token, the clock and one line per entry; marks racy lines', () => {
    const text = ['token abc', '1000', '81a4 3 900 ./a.txt', '41ed 4096 999 ./dir', 'a1ff 5 1000 ./dir/l ink', ''].join(
      '\n',
    );
    const l = parseListing(text);
    expect(l.token).toBe('abc');
    expect(l.kinds).toEqual({ 'a.txt': 'file', dir: 'dir', 'dir/l ink': 'symlink' });
    expect(l.lines['a.txt']).toBe('81a4 3 900 ./a.txt');
    expect(l.lines.dir).toBe('41ed 4096 999 ./dir racy');
    expect(expectedInput({ a: 'x' })).toBe('#\nx\n');
  });
});

describe('sync.exclude', () => {
  it('matches names anywhere and paths from the root; refuses . and ..', () => {
    const ex = compileExclude(['node_modules', 'build/out/']);
    expect(isExcluded(ex, 'a/node_modules/x')).toBe(true);
    expect(isExcluded(ex, 'build/out')).toBe(true);
    expect(isExcluded(ex, 'build/output')).toBe(false);
    expect(isExcluded(ex, '.mino-sync/list')).toBe(true);
    expect(() => compileExclude(['../x'])).toThrow('Invalid sync.exclude');
  });
});
