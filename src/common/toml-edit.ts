/**
 * Line-level editing of one key in a TOML file, keeping every other byte (comments, blank lines,
 * order, formatting). smol-toml cannot round-trip comments, so mino edits text: it finds the
 * statement `name = ...` inside `[table]` (multi-line arrays and strings included), replaces or
 * removes just those lines, or appends the key to its table (adding the table at the end when it
 * is missing). The caller re-parses and validates the result before writing it.
 */

/** A statement found in the text: lines `start..end` (inclusive). */
interface Statement {
  start: number;
  end: number;
  /** Table the statement belongs to (`''` = root; undefined inside `[[array]]` tables). */
  table: string | undefined;
  /** `header` for `[table]` lines, `key` for `key = value`. */
  kind: 'header' | 'key';
  /** Header table name, or the (dotted) key. */
  name: string;
}

/** Normalises a key or header: `a . "b"` → `a.b` (quotes removed, spaces around dots dropped). */
function normaliseKey(raw: string): string {
  return raw
    .split('.')
    .map((p) =>
      p
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/^'(.*)'$/, '$1'),
    )
    .join('.');
}

const KEY_PART = String.raw`(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')`;
const KEY_RE = new RegExp(String.raw`^\s*(${KEY_PART}(?:\s*\.\s*${KEY_PART})*)\s*=`);
const HEADER_RE = new RegExp(String.raw`^\s*\[\s*(${KEY_PART}(?:\s*\.\s*${KEY_PART})*)\s*\]\s*(?:#.*)?$`);
const ARRAY_HEADER_RE = /^\s*\[\[/;

/** Scanner state carried across lines. */
interface ScanState {
  depth: number;
  multiline: '"""' | "'''" | undefined;
}

/** Scans one line; returns where a comment starts (or -1) and updates the state. */
function scanLine(line: string, state: ScanState): number {
  let i = 0;
  while (i < line.length) {
    if (state.multiline) {
      const close = line.indexOf(state.multiline, i);
      if (close < 0) return -1;
      // A basic multi-line string may escape the quotes.
      if (state.multiline === '"""' && close > 0 && line[close - 1] === '\\' && line[close - 2] !== '\\') {
        i = close + 1;
        continue;
      }
      i = close + 3;
      while (line[i] === state.multiline[0]) i++;
      state.multiline = undefined;
      continue;
    }
    const c = line[i]!;
    if (c === '#') return i;
    if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
      state.multiline = line.slice(i, i + 3) as '"""' | "'''";
      i += 3;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      i = close < 0 ? line.length : close + 1;
      continue;
    }
    if (c === '[' || c === '{') state.depth++;
    if (c === ']' || c === '}') state.depth--;
    i++;
  }
  return -1;
}

/** Splits text into statements (headers and key/value pairs) with their line ranges. */
function statements(lines: readonly string[]): Statement[] {
  const out: Statement[] = [];
  let table: string | undefined = '';
  const state: ScanState = { depth: 0, multiline: undefined };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const header = HEADER_RE.exec(line);
    if (ARRAY_HEADER_RE.test(line)) {
      table = undefined;
      i++;
      continue;
    }
    if (header && !line.trim().startsWith('[[')) {
      table = normaliseKey(header[1]!);
      out.push({ start: i, end: i, table, kind: 'header', name: table });
      i++;
      continue;
    }
    const key = KEY_RE.exec(line);
    if (!key) {
      i++;
      continue;
    }
    const start = i;
    scanLine(line.slice(key[0].length), state);
    while ((state.depth > 0 || state.multiline) && i + 1 < lines.length) {
      i++;
      scanLine(lines[i]!, state);
    }
    state.depth = 0;
    state.multiline = undefined;
    out.push({ start, end: i, table, kind: 'key', name: normaliseKey(key[1]!) });
    i++;
  }
  return out;
}

function splitLines(text: string): { lines: string[]; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  return { lines, eol };
}

/** The trailing comment of a one-line statement (with its leading spaces), or ''. */
function trailingComment(line: string, key: RegExpExecArray): string {
  const state: ScanState = { depth: 0, multiline: undefined };
  const at = scanLine(line.slice(key[0].length), state);
  if (at < 0) return '';
  const abs = key[0].length + at;
  const before = line.slice(0, abs);
  return line.slice(before.trimEnd().length);
}

/** True when `text` has a `[table]` header. */
export function hasTable(text: string, table: string): boolean {
  return statements(splitLines(text).lines).some((s) => s.kind === 'header' && s.name === table);
}

/** How {@link setKeyInText} places and formats the statement. */
export interface SetKeyOptions {
  /**
   * Where a key the table does not have yet goes: after the table's last key (`end`, the default:
   * reads like a file written by hand) or right below its header (`top`: ahead of the commented
   * examples that fill system files such as containers.conf).
   */
  newKeyAt?: 'end' | 'top';
  /**
   * Keep a comment that followed the replaced value on its line (default true). False for files
   * whose comments describe the old value (`driver = "vfs"  # slow`).
   */
  keepComment?: boolean;
}

/** Sets `name = <valueToml>` in `[table]` (`''` = top level), replacing only that statement. */
export function setKeyInText(
  text: string,
  table: string,
  name: string,
  valueToml: string,
  options: SetKeyOptions = {},
): string {
  const { lines, eol } = splitLines(text);
  const all = statements(lines);
  const found = all.find((s) => s.kind === 'key' && s.table === table && s.name === name);
  if (found) {
    const first = lines[found.start]!;
    const indent = /^\s*/.exec(first)![0];
    const comment =
      found.start === found.end && (options.keepComment ?? true) ? trailingComment(first, KEY_RE.exec(first)!) : '';
    lines.splice(found.start, found.end - found.start + 1, `${indent}${name} = ${valueToml}${comment}`);
    return lines.join(eol);
  }
  const header = all.find((s) => s.kind === 'header' && s.name === table);
  if (header || table === '') {
    const inTable = all.filter((s) => s.kind === 'key' && s.table === table);
    const nextHeader = all.find((s) => s.kind === 'header' && s.start > (header?.start ?? -1));
    const last =
      options.newKeyAt === 'top'
        ? undefined
        : inTable.filter((s) => s.start > (header?.start ?? -1) && (!nextHeader || s.start < nextHeader.start)).pop();
    const at = last ? last.end + 1 : header ? header.end + 1 : 0;
    lines.splice(at, 0, `${name} = ${valueToml}`);
    return lines.join(eol);
  }
  // New table at the end of the file.
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > 0) lines.push('');
  lines.push(`[${table}]`, `${name} = ${valueToml}`, '');
  return lines.join(eol);
}

/** Removes the statement `name` from `[table]`; `removed` is false when there was none. */
export function unsetKeyInText(text: string, table: string, name: string): { text: string; removed: boolean } {
  const { lines, eol } = splitLines(text);
  const found = statements(lines).find((s) => s.kind === 'key' && s.table === table && s.name === name);
  if (!found) return { text, removed: false };
  lines.splice(found.start, found.end - found.start + 1);
  return { text: lines.join(eol), removed: true };
}

/** A TOML basic string for any JS string (control characters and DEL escaped). */
function tomlString(value: string): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

/** TOML text for a value of the configuration (string, boolean, integer, array, table inline). */
export function tomlValue(value: unknown): string {
  if (typeof value === 'string') return tomlString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (Array.isArray(value)) return `[${value.map(tomlValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return `{ ${entries.map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : tomlString(k)} = ${tomlValue(v)}`).join(', ')} }`;
  }
  throw new Error(`cannot write ${typeof value} as TOML`);
}
