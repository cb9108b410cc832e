import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { jsonObject, readJsonCache, writeJsonCache } from '../common/json-cache-file.js';
import { minoPaths } from '../common/xdg-paths.js';

/**
 * What this build of mino already worked out about configuration files, kept between runs in
 * `<state>/config-memo.json` (0600): the SHA-256 of file contents that passed the schema, and
 * merged configurations (defaults applied, sources resolved) by the SHA-256 of their inputs.
 * Checking a file against the zod schema costs 15–20 ms of CPU on every command (zod builds its
 * schema and its parsers on first use); a file whose exact bytes passed before passes again. A
 * changed file has another hash (checked again, its problems reported as before); another build
 * of mino (a schema that may differ) starts a new memo. Off where the build has no identity
 * (tests run the sources), and never created in a state directory that does not exist yet. Any
 * problem with the file only means the work is done again.
 */

declare const __MINO_BUILD__: string | undefined;

/** Entries kept of each kind (a few files and projects; oldest dropped first). */
const MAX_ENTRIES = 16;

interface MemoData {
  build: string;
  valid: string[];
  resolved: Record<string, unknown>;
}

interface Memo {
  path: string;
  build: string;
  data?: MemoData;
}

/** The memo of this process: undefined until first use, null when off. */
let memo: Memo | null | undefined;

/**
 * Where the memo lives and which build it belongs to (tests; default: the state directory of
 * `process.env` and the build identity injected at build time). `undefined` turns it off.
 */
export function useConfigMemo(where: { path: string; build: string } | undefined): void {
  memo = where === undefined ? null : { ...where };
}

function current(): Memo | null {
  if (memo !== undefined) return memo;
  const build = typeof __MINO_BUILD__ === 'string' ? __MINO_BUILD__ : undefined;
  memo = build === undefined ? null : { path: join(minoPaths().stateDir, 'config-memo.json'), build };
  return memo;
}

function load(m: Memo): MemoData {
  m.data ??= readJsonCache(m.path, (value) => {
    const read = jsonObject(value);
    const resolved = jsonObject(read?.resolved);
    return read?.build === m.build &&
      Array.isArray(read.valid) &&
      read.valid.every((v) => typeof v === 'string') &&
      resolved !== undefined
      ? { build: m.build, valid: read.valid as string[], resolved }
      : undefined;
  }) ?? { build: m.build, valid: [], resolved: {} };
  return m.data;
}

/** Never creates the state directory (writeJsonCache leaves a missing one missing). */
function save(m: Memo, data: MemoData): void {
  writeJsonCache(m.path, data);
}

/** True when a configuration file with these exact contents (SHA-256 hex) passed the schema before. */
export function knownValid(sha256: string): boolean {
  const m = current();
  return m !== null && load(m).valid.includes(sha256);
}

/** Remembers that a file with these contents passed the schema. */
export function rememberValid(sha256: string): void {
  const m = current();
  if (m === null) return;
  const data = load(m);
  if (data.valid.includes(sha256)) return;
  data.valid = [...data.valid, sha256].slice(-MAX_ENTRIES);
  save(m, data);
}

/** A merged configuration remembered under `key` (a fresh copy), or undefined. */
export function rememberedResolution<T>(key: string): T | undefined {
  const m = current();
  if (m === null) return undefined;
  const found = load(m).resolved[key];
  return found === undefined ? undefined : (structuredClone(found) as T);
}

/** Remembers a merged configuration (plain data) under `key`. */
export function rememberResolution(key: string, value: unknown): void {
  const m = current();
  if (m === null) return;
  const data = load(m);
  const entries = Object.entries(data.resolved).filter(([k]) => k !== key);
  data.resolved = Object.fromEntries([...entries, [key, structuredClone(value)]].slice(-MAX_ENTRIES));
  save(m, data);
}

/**
 * The memo key of some parsed TOML (SHA-256 hex of its JSON). Values JSON would blur keep their
 * kind: a TOML date is not the string it prints as, and `inf` and `nan` are not `null`.
 */
export function memoKeyOf(value: unknown): string {
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, plain: unknown) {
    const original = this[key];
    if (original instanceof Date) return { date: String(original) };
    if (typeof original === 'number' && !Number.isFinite(original)) return { number: String(original) };
    return plain;
  });
  return createHash('sha256')
    .update(text ?? '')
    .digest('hex');
}
