import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { closestKey, findKey } from './config-keys.js';
import { configSchema } from './config-schema.js';
import { knownValid, rememberValid } from './config-memo.js';
import { errnoCode } from '../common/errno.js';
import { readProjectFile, refusalWords } from '../common/project-file.js';

/**
 * Reading one configuration file: its bytes are read once, hashed (for the trust gate) and parsed
 * from that same buffer, so what is trusted is exactly what is used. Errors name the file and,
 * for TOML syntax, the line and column; for schema problems, the key and the closest valid key.
 */

/** A raw TOML table as parsed (before defaults). */
export type RawTable = Record<string, unknown>;

/** One configuration file, read and validated. */
export interface ConfigFile {
  path: string;
  /** The exact bytes read. */
  bytes: Buffer;
  /** SHA-256 (hex) of {@link bytes}. */
  sha256: string;
  /** Parsed TOML (validated, defaults not applied). */
  raw: RawTable;
}

/** Largest configuration file accepted (bytes). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** SHA-256 hex of some bytes. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Reads, parses and validates a configuration file; undefined when it does not exist. */
export function readConfigFile(path: string): ConfigFile | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR')
      throw new MinoError(`Config file ${path} is a directory`, { hint: 'Point -c/--config at a TOML file' });
    throw new MinoError(`Cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return configFromBytes(path, bytes);
}

/**
 * Reads a project's `.mino.toml` as a project file (common/project-file.ts): never through a
 * symbolic link (a link in the project could pull in any file of the user's, or one another
 * project's trust was given to), never a FIFO or device, at most {@link MAX_CONFIG_BYTES}.
 * Undefined when absent; a refusal is a MinoError naming the file.
 */
export function readLocalConfigFile(path: string): ConfigFile | undefined {
  let r;
  try {
    r = readProjectFile(path, { maxBytes: MAX_CONFIG_BYTES });
  } catch (err) {
    throw new MinoError(`Cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (r.kind === 'missing') return undefined;
  if (r.kind === 'refused') throw localConfigRefused(path, refusalWords(r.reason, MAX_CONFIG_BYTES));
  return configFromBytes(path, r.bytes);
}

/** The error for a project `.mino.toml` mino will not read or write. */
export function localConfigRefused(path: string, why: string): MinoError {
  return new MinoError(
    `Project config ${printable(path)} ${why}; mino reads and writes only regular files in a project`,
    {
      hint: 'Replace it with a regular file (a copy, not a link) or remove it, or pass --no-local to ignore it; mino changed nothing',
    },
  );
}

/** Parses and validates bytes that were read from `path`. */
export function configFromBytes(path: string, bytes: Buffer): ConfigFile {
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new MinoError(`Config file ${path} is larger than ${MAX_CONFIG_BYTES / 1024} KiB`, {
      hint: 'A mino config is a few lines of TOML',
    });
  }
  const raw = parseConfigText(path, bytes.toString('utf8'));
  const sha256 = sha256Hex(bytes);
  // The schema check is the costly part of reading a config: the same bytes passed before pass again.
  if (!knownValid(sha256)) {
    validateConfig(path, raw);
    rememberValid(sha256);
  }
  return { path, bytes, sha256, raw };
}

/** Parses TOML text; a syntax error names the file, line and column. */
export function parseConfigText(path: string, text: string): RawTable {
  try {
    return parse(text) as RawTable;
  } catch (err) {
    const e = err as Error & { line?: number; column?: number };
    const where = e.line === undefined ? '' : ` at line ${e.line}, column ${e.column ?? 0}`;
    const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document:\s*/, '');
    throw new MinoError(`Invalid TOML in ${path}${where}: ${reason}`, {
      hint: 'Fix the file (TOML syntax: key = "value", [table]); mino changed nothing',
      cause: err,
    });
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (value !== null && typeof value === 'object') return 'a table';
  return `${typeof value} ${printable(JSON.stringify(value) ?? String(value))}`;
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const k of path)
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${printable(String(p))}`))
    .join('');
}

function expected(issue: { expected?: string }, path: string): string {
  const key = findKey(path);
  if (key?.kind === 'string-list') return 'an array of strings';
  if (key?.kind === 'string-map') return 'a table of strings';
  if (key?.kind === 'integer') return 'an integer';
  const e = issue.expected;
  return e === 'object' ? 'a table' : e === 'int' ? 'an integer' : `a ${e ?? 'valid value'}`;
}

/** Validates a parsed file against the schema; throws one MinoError for the first problem. */
export function validateConfig(path: string, raw: RawTable): void {
  const problem = configProblem(raw);
  if (problem) throw new MinoError(`Invalid config ${path}: ${problem.text}`, { hint: problem.hint });
}

/** What is wrong with a raw configuration (the first problem), or undefined when it is valid. */
export function configProblem(raw: RawTable): { text: string; hint: string } | undefined {
  const result = configSchema().safeParse(raw);
  if (result.success) return undefined;
  const issue = result.error.issues[0]! as {
    code: string;
    path: PropertyKey[];
    message: string;
    keys?: string[];
    expected?: string;
    values?: unknown[];
  };
  const key = keyPath(issue.path);
  const problem = (text: string, hint?: string): { text: string; hint: string } => ({
    text,
    hint: hint ?? `Fix the file; 'mino config show' lists every key with its value`,
  });
  if (issue.code === 'unrecognized_keys') {
    const unknown = `${key ? `${key}.` : ''}${issue.keys?.[0] ?? ''}`;
    const near = closestKey(unknown);
    return problem(
      `unknown key '${printable(unknown)}'`,
      near ? `Did you mean '${near}'?` : "'mino config show' lists the valid keys",
    );
  }
  if (issue.code === 'invalid_type') {
    const got = at(raw, issue.path);
    return problem(`${key} must be ${expected(issue, key)}, not ${describe(got)}`);
  }
  if (issue.code === 'invalid_value' && issue.values) {
    return problem(
      `${key} must be one of ${issue.values.map(String).join(', ')}, not ${describe(at(raw, issue.path))}`,
    );
  }
  if (issue.code === 'invalid_key') {
    return problem(`${key}: '${printable(String(issue.path[issue.path.length - 1]))}' is not a valid variable name`);
  }
  const message =
    issue.message === 'Invalid input' ? `has an invalid value ${describe(at(raw, issue.path))}` : issue.message;
  return problem(
    `${key} ${message}${issue.code === 'custom' || issue.code === 'invalid_format' || issue.code === 'too_big' || issue.code === 'too_small' ? ` (got ${describe(at(raw, issue.path))})` : ''}`,
  );
}
