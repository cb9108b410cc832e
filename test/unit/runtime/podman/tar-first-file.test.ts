import { describe, expect, it } from 'vitest';
import { firstFileOfTar } from '../../../../src/runtime/podman/tar-first-file.js';

/** One tar header block: `name`, `size` (octal), `type`. */
function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(type, 156, 'latin1');
  return h;
}

const padded = (text: string): Buffer => {
  const b = Buffer.from(text, 'latin1');
  return Buffer.concat([b, Buffer.alloc(Math.ceil(b.length / 512) * 512 - b.length)]);
};

describe('firstFileOfTar', () => {
  it("returns the first regular file's content, past a pax header", () => {
    const pax = '30 path=a/very/long/name.txt\n';
    const tar = Buffer.concat([
      header('PaxHeader', pax.length, 'x'),
      padded(pax),
      header('1', 6, '0'),
      padded('hello\n'),
      Buffer.alloc(1024),
    ]);
    expect(firstFileOfTar(tar)?.toString()).toBe('hello\n');
  });

  it('returns undefined for an empty archive, a directory only, or one cut short', () => {
    expect(firstFileOfTar(Buffer.alloc(1024))).toBeUndefined();
    expect(firstFileOfTar(Buffer.concat([header('d', 0, '5'), Buffer.alloc(1024)]))).toBeUndefined();
    expect(firstFileOfTar(Buffer.concat([header('1', 600, '0'), padded('x')]))).toBeUndefined();
  });
});
