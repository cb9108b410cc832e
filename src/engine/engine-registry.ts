import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { isErrno } from '../common/errno.js';
import { MinoError, UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { minoPaths } from '../common/xdg-paths.js';
import { LOCAL_ENGINE, validateEngineName } from './engine-name.js';
import { parseEngineUrl, type EngineUrl } from './engine-url.js';

/**
 * The engines mino knows besides this machine's (`mino engine add|list|remove|default`), kept in
 * `$XDG_CONFIG_HOME/mino/engines.json` (0600): a name, the engine's URL, the ssh key to reach it
 * (a path; the key itself is never copied), and what `mino setup --engine` learnt about it.
 */

/** One registered engine. */
export interface EngineRecord {
  name: string;
  url: EngineUrl;
  /** Absolute path of the ssh private key (`--identity`), when one is given. */
  identity?: string;
  /** Whether podman there runs rootless (learnt by `mino setup --engine` or the first run). */
  rootless?: boolean;
  /** Podman's version there, as last seen. */
  version?: string;
}

/** The registry file's content. */
export interface EngineRegistry {
  /** The engine runs use when neither `--engine` nor `[engine] name` says otherwise. */
  default?: string;
  engines: EngineRecord[];
}

/** Path of the registry file. */
export function engineRegistryPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(minoPaths(env).configDir, 'engines.json');
}

function invalid(path: string, why: string): MinoError {
  return new MinoError(`${path} is not a valid engine registry: ${why}`, {
    hint: `Fix or remove ${path} (then add the engines again with: mino engine add NAME URL)`,
  });
}

/** Checks an identity path: absolute, no NUL, no `..`. */
export function validateIdentityPath(path: string): string {
  if (!isAbsolute(path) || path.includes('\0') || /(^|\/)\.\.(\/|$)/.test(path) || /[\n\r]/.test(path)) {
    throw new UsageError(`Invalid ssh key path '${printable(path)}'`, 'Give the absolute path of a private key file');
  }
  return path;
}

/** The file's shape (its values are checked further by name, URL and key-path rules below). */
const RegistrySchema = z.object({
  default: z.optional(z.string()),
  engines: z.record(
    z.string(),
    z.object({
      url: z.string(),
      identity: z.optional(z.string()),
      rootless: z.optional(z.boolean()),
      version: z.optional(z.string()),
    }),
  ),
});

/** Parses the registry file's text; throws a MinoError naming `path` when it is not one. */
export function parseEngineRegistry(path: string, text: string): EngineRegistry {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  const parsed = RegistrySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length === 0 ? 'the file' : issue.path.map((k) => printable(String(k))).join('.');
    throw invalid(path, `${where}: ${issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message}`);
  }
  const raw = parsed.data;
  const engines: EngineRecord[] = [];
  for (const [name, entry] of Object.entries(raw.engines)) {
    try {
      validateEngineName(name);
      engines.push({
        name,
        url: parseEngineUrl(entry.url),
        ...(entry.identity === undefined ? {} : { identity: validateIdentityPath(entry.identity) }),
        ...(entry.rootless === undefined ? {} : { rootless: entry.rootless }),
        ...(entry.version === undefined ? {} : { version: entry.version }),
      });
    } catch (err) {
      throw invalid(path, `engine '${printable(name)}': ${(err as Error).message}`);
    }
  }
  const def = raw.default;
  if (def !== undefined && !engines.some((e) => e.name === def) && def !== LOCAL_ENGINE)
    throw invalid(path, 'the default is not a registered engine');
  return { ...(def !== undefined && def !== LOCAL_ENGINE ? { default: def } : {}), engines };
}

/** Reads the registry (empty when the file does not exist). */
export function readEngineRegistry(env: NodeJS.ProcessEnv = process.env): EngineRegistry {
  const path = engineRegistryPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return { engines: [] };
    throw new MinoError(`cannot read ${path}: ${(err as Error).message}`, { hint: `Check the permissions of ${path}` });
  }
  return parseEngineRegistry(path, text);
}

/** Writes the registry atomically (0600, its directory 0700). */
export function writeEngineRegistry(registry: EngineRegistry, env: NodeJS.ProcessEnv = process.env): void {
  const engines: Record<string, unknown> = {};
  for (const e of registry.engines) {
    engines[e.name] = {
      url: e.url.text,
      ...(e.identity === undefined ? {} : { identity: e.identity }),
      ...(e.rootless === undefined ? {} : { rootless: e.rootless }),
      ...(e.version === undefined ? {} : { version: e.version }),
    };
  }
  const data = { ...(registry.default === undefined ? {} : { default: registry.default }), engines };
  writeFileAtomic(engineRegistryPath(env), `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700 });
}

/** The registered engine `name`; a UsageError (exit 2) naming the known ones when there is none. */
export function findEngine(registry: EngineRegistry, name: string): EngineRecord {
  validateEngineName(name);
  const found = registry.engines.find((e) => e.name === name);
  if (found) return found;
  const known = registry.engines.map((e) => e.name);
  throw new UsageError(
    `Unknown engine '${name}'`,
    known.length > 0
      ? `Known engines: ${[LOCAL_ENGINE, ...known].join(', ')} (see: mino engine list)`
      : 'Add one first: mino engine add NAME ssh://user@host/path/to/podman.sock',
  );
}

/**
 * Which engine a run uses: `--engine`, else the configuration's `[engine] name`, else the
 * registry's default, else this machine's. Returns undefined for this machine's engine.
 */
export function chooseEngine(
  registry: EngineRegistry,
  flag: string | undefined,
  configured: string | undefined,
): EngineRecord | undefined {
  const name = flag ?? configured ?? registry.default;
  if (name === undefined || name === LOCAL_ENGINE) return undefined;
  return findEngine(registry, name);
}
