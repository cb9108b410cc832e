/**
 * The engine's listing (see sync-scripts.ts): a `token <id>` line, the engine's clock (seconds),
 * then `<hex mode> <size> <mtime> ./<path>` per entry.
 */

/** A parsed listing. */
export interface Listing {
  token: string;
  /** The engine's clock when it listed, seconds. */
  clock: number;
  /** Path → its listing line (a racy one marked so it never matches next time). */
  lines: Record<string, string>;
  /** Path → kind from the mode. */
  kinds: Record<string, 'file' | 'dir' | 'symlink' | 'other'>;
}

function kindOf(hexMode: string): Listing['kinds'][string] {
  const t = Number.parseInt(hexMode, 16) & 0o170000;
  if (t === 0o100000) return 'file';
  if (t === 0o040000) return 'dir';
  if (t === 0o120000) return 'symlink';
  return 'other';
}

/**
 * Parses a listing. A line whose mtime is not clearly before the engine's clock is "racy" (a
 * change in the same second would keep size and mtime): it is stored with a marker, so the next
 * return trip fetches that entry again and compares its content.
 */
export function parseListing(text: string): Listing {
  const rows = text.split('\n');
  const first = rows[0] ?? '';
  if (!first.startsWith('token ')) throw new Error(`unexpected listing start: ${first.slice(0, 80)}`);
  const token = first.slice('token '.length).trim();
  const clock = Number(rows[1]);
  if (!Number.isFinite(clock)) throw new Error('the engine listing has no clock line');
  const lines: Record<string, string> = {};
  const kinds: Listing['kinds'] = {};
  for (const row of rows.slice(2)) {
    if (row === '') continue;
    const m = /^([0-9a-f]+) (\d+) (\d+) \.\/(.+)$/.exec(row);
    if (!m) continue;
    const [, mode = '', , mtime = '0', path = ''] = m;
    lines[path] = Number(mtime) >= clock - 1 ? `${row} racy` : row;
    kinds[path] = kindOf(mode);
  }
  return { token, clock, lines, kinds };
}

/** The lines the engine compares its next listing with (a `#` line first, see BACK_SCRIPT). */
export function expectedInput(lines: Record<string, string>): string {
  return `#\n${Object.values(lines).join('\n')}\n`;
}
