import { readFileSync, statSync } from 'node:fs';
import { readProjectFile, refusalWords } from '../common/project-file.js';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../common/atomic-write.js';
import { MinoError, UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import {
  MAX_CONFIG_BYTES,
  configProblem,
  localConfigRefused,
  parseConfigText,
  sha256Hex,
  validateConfig,
  type RawTable,
} from './config-file.js';
import type { KeyTarget } from './config-value.js';
import { hasTable, setKeyInText, tomlValue, unsetKeyInText } from '../common/toml-edit.js';
import { errnoCode } from '../common/errno.js';

/**
 * `config set` / `config unset` on one file: only the changed key's lines are rewritten, the
 * result is parsed and validated, and it must equal the old content with exactly that change
 * (otherwise the key was written in a form mino does not edit, and nothing is written). Then an
 * atomic write.
 */

/** What an edit did. */
export interface EditResult {
  path: string;
  /** The file's bytes before (undefined when it did not exist). */
  before?: Buffer;
  /** The bytes written (equal to `before` when nothing changed). */
  after: Buffer;
  sha256: string;
  changed: boolean;
}

function clone(raw: RawTable): RawTable {
  return structuredClone(raw);
}

function setPath(raw: RawTable, parts: readonly string[], value: unknown): void {
  let cur = raw;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === undefined) cur[p] = {};
    cur = cur[p] as RawTable;
  }
  if (value === undefined) delete cur[parts[parts.length - 1]!];
  else cur[parts[parts.length - 1]!] = value;
}

function getPath(raw: RawTable, parts: readonly string[]): unknown {
  let cur: unknown = raw;
  for (const p of parts) cur = cur !== null && typeof cur === 'object' ? (cur as RawTable)[p] : undefined;
  return cur;
}

/** Options of {@link editConfigFile}. */
export interface EditOptions {
  /** Create missing parent directories with this mode. */
  mkdirMode?: number;
  /** Sees the edited file before it is written; throws to refuse it. */
  check?: (raw: RawTable) => void;
  /**
   * The file is a project's `.mino.toml`: read as a project file (common/project-file.ts), so a
   * symbolic link, FIFO or device there is refused instead of followed.
   */
  project?: boolean;
}

function readBefore(path: string, project: boolean): { bytes?: Buffer; mode?: number } {
  try {
    if (project) {
      const r = readProjectFile(path, { maxBytes: MAX_CONFIG_BYTES });
      if (r.kind === 'missing') return {};
      if (r.kind === 'refused') throw localConfigRefused(path, refusalWords(r.reason, MAX_CONFIG_BYTES));
      return { bytes: r.bytes, mode: r.mode & 0o777 };
    }
    const bytes = readFileSync(path);
    return { bytes, mode: statSync(path).mode & 0o777 };
  } catch (err) {
    if (err instanceof MinoError) throw err;
    if (errnoCode(err) === 'ENOENT') return {};
    throw new MinoError(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Applies `value` (undefined = unset) for `target` to the file at `path`. `options.check` sees the
 * edited file before it is written and throws to refuse it (rules that relate keys, e.g.
 * pool.min_warm ≤ pool.max_warm); nothing is written then.
 */
export function editConfigFile(path: string, target: KeyTarget, value: unknown, options: EditOptions = {}): EditResult {
  const read = readBefore(path, options.project ?? false);
  const before = read.bytes;
  const text = before?.toString('utf8') ?? '';
  const oldRaw = parseConfigText(path, text);
  validateConfig(path, oldRaw);

  const { key } = target;
  const keyParts = key.path.split('.');
  const expected = clone(oldRaw);
  let next: string;
  if (target.entry !== undefined) {
    const mapTable = key.path;
    const map = { ...(getPath(oldRaw, keyParts) as Record<string, unknown> | undefined) };
    if (value === undefined) delete map[target.entry];
    else map[target.entry] = value;
    setPath(expected, [...keyParts, target.entry], value);
    if (hasTable(text, mapTable)) {
      next =
        value === undefined
          ? unsetKeyInText(text, mapTable, target.entry).text
          : setKeyInText(text, mapTable, target.entry, tomlValue(value));
    } else if (Object.keys(map).length === 0 && value === undefined) {
      next = unsetKeyInText(text, key.table, key.name).text;
      setPath(expected, keyParts, undefined);
    } else {
      next = setKeyInText(text, key.table, key.name, tomlValue(map));
    }
  } else {
    setPath(expected, keyParts, value);
    next =
      value === undefined
        ? unsetKeyInText(text, key.table, key.name).text
        : setKeyInText(text, key.table, key.name, tomlValue(value));
  }

  let newRaw: RawTable;
  try {
    newRaw = parseConfigText(path, next);
  } catch (err) {
    throw unsafe(path, target.path, err);
  }
  // The file was valid before, so a problem now is the new value's: a usage error (exit 2).
  const problem = configProblem(newRaw);
  if (problem) {
    throw new UsageError(
      `Invalid value for ${printable(target.path)}: ${problem.text}`,
      'Nothing was written; `mino config show` lists every key with its type and default',
    );
  }
  // Tables emptied by an unset stay as headers: compare without empty tables.
  if (!isDeepStrictEqual(prune(newRaw), prune(expected))) throw unsafe(path, target.path);
  options.check?.(newRaw);
  const after = Buffer.from(next);
  const changed = before === undefined ? next !== '' : !before.equals(after);
  if (changed) {
    const mode = read.mode ?? 0o644;
    writeFileAtomic(path, after, {
      mode,
      ...(options.mkdirMode === undefined ? {} : { mkdirMode: options.mkdirMode }),
    });
  }
  return { path, ...(before ? { before } : {}), after, sha256: sha256Hex(after), changed };
}

function prune(raw: RawTable): RawTable {
  const out: RawTable = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const inner = prune(v as RawTable);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function unsafe(path: string, key: string, cause?: unknown): MinoError {
  return new MinoError(
    `Cannot edit ${key} in ${path} safely: it is written in a form mino does not edit (a dotted key or an inline table)`,
    {
      hint: 'Edit the file by hand; mino changed nothing',
      ...(cause ? { cause } : {}),
    },
  );
}
