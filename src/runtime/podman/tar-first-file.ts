/**
 * The content of the first regular file of a tar archive (what `podman cp CONTAINER:FILE -`
 * writes: the file, possibly after pax or GNU long-name headers); undefined when the archive
 * holds none or ends early.
 */
export function firstFileOfTar(tar: Buffer): Buffer | undefined {
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) return undefined;
    const size = sizeOf(header);
    if (size === undefined) return undefined;
    const body = at + 512;
    const type = String.fromCharCode(header[156] ?? 0);
    if (type === '0' || type === '\0') return body + size <= tar.length ? tar.subarray(body, body + size) : undefined;
    at = body + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

/** A header's size field: octal text, or base-256 (the high bit of its first byte set). */
function sizeOf(header: Buffer): number | undefined {
  const field = header.subarray(124, 136);
  if ((field[0]! & 0x80) !== 0) {
    let n = 0;
    for (const b of field.subarray(1)) n = n * 256 + b;
    return n;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : text === '' ? 0 : undefined;
}
