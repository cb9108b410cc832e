import * as z from 'zod/mini';
import { MinoError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { isValidLayerName } from './layer-name.js';

/**
 * `layer.toml`: parsing (smol-toml, loaded on demand) and validation (zod/mini). The schema is
 * mino 1.6's (`[layer]`, `[env]`, `[env.path_prepend] dirs`, `[cache] paths`,
 * `[root_install] packages`, `[user_install]`), hardened because every value ends up in a
 * generated Containerfile, an image label or a shell command of the bootstrap: unknown keys,
 * non-string env values, control characters, shell metacharacters and a `layer.name` that differs
 * from the directory are all rejected, each error naming the file and the key.
 */

/** Runtime managers the bootstrap knows (`[user_install] runtime`). */
const USER_RUNTIMES = ['nvm', 'rustup', 'uv'] as const;

/** A runtime manager of `[user_install]`. */
type UserRuntime = (typeof USER_RUNTIMES)[number];

/** `[user_install]`: tools the base image's bootstrap installs into the home volume at run time. */
interface UserInstall {
  runtime?: UserRuntime;
  runtime_version?: string;
  npm_globals: string[];
  cargo_tools: string[];
  uv_tools: string[];
}

/** A validated `layer.toml`. */
export interface LayerManifest {
  name: string;
  description: string;
  version: string;
  /** `[env]` string values, in file order (`path_prepend` excluded). */
  env: Record<string, string>;
  /** `[env.path_prepend] dirs`: directories put in front of PATH. */
  pathPrepend: string[];
  /** `[cache] paths` (parsed for compatibility; unused, as in mino 1.6). */
  cachePaths: string[];
  /** `[root_install] packages`: installed as root with the base image's package manager. */
  rootPackages: string[];
  userInstall: UserInstall;
}

/** Largest layer.toml accepted (bytes). */
const MAX_MANIFEST_BYTES = 64 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Absolute path for PATH and cache entries: no ':' (PATH separator), no '$', no spaces. */
const ABS_PATH = /^\/[A-Za-z0-9._/+@-]*$/;
/** A distribution package: no leading '-' (it would be read as an option), no shell metacharacters. */
const PACKAGE = /^[A-Za-z0-9][A-Za-z0-9._+:=-]{0,127}$/;
const NPM_PACKAGE = /^(?:@[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*(?:@[A-Za-z0-9._^~+-]+)?$/;
const CARGO_TOOL = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:@[A-Za-z0-9._+-]+)?$/;
const UV_TOOL = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:(?:==|@)[A-Za-z0-9._+-]+)?$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+/-]{0,63}$/;

// Built on first use (zod builds a schema and its parsers when it is made): most commands never
// read a layer file, and a run of a prepared image needs none.
let manifestSchema: ReturnType<typeof buildManifestSchema> | undefined;

function buildManifestSchema() {
  const noControl = z.refine<string>((v) => !CONTROL.test(v), 'must not contain newlines or other control characters');
  const line = (max: number) => z.string().check(z.maxLength(max, `must be at most ${max} characters`), noControl);
  const pattern = (re: RegExp, what: string) => z.string().check(z.regex(re, what));
  const list = (item: z.ZodMiniType<string>) =>
    z.optional(z.array(item).check(z.maxLength(256, 'has too many entries')));

  return z.strictObject({
    layer: z.strictObject({
      name: pattern(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must use only letters, digits, '_' and '-' (at most 64)"),
      description: line(200),
      version: pattern(
        VERSION,
        "must be a short version such as \"1\" or \"2.1\" (letters, digits, '.', '_', '+', '-', '/')",
      ),
    }),
    env: z.optional(z.record(z.string(), z.string())),
    path_prepend: z.optional(
      z.strictObject({
        dirs: list(
          pattern(ABS_PATH, "must be an absolute path of letters, digits and '._/+@-' (no ':', '$' or spaces)"),
        ),
      }),
    ),
    cache: z.optional(
      z.strictObject({
        paths: list(pattern(ABS_PATH, "must be an absolute path of letters, digits and '._/+@-'")),
      }),
    ),
    root_install: z.optional(
      z.strictObject({
        packages: list(
          pattern(PACKAGE, "must be a package name (letters, digits and '._+:=-', not starting with '-')"),
        ),
      }),
    ),
    user_install: z.optional(
      z.strictObject({
        runtime: z.optional(z.enum(USER_RUNTIMES)),
        runtime_version: z.optional(pattern(VERSION, 'must be a version such as "22" or "stable"')),
        npm_globals: list(pattern(NPM_PACKAGE, 'must be an npm package name, optionally with @version')),
        cargo_tools: list(pattern(CARGO_TOOL, 'must be a crate name, optionally with @version')),
        uv_tools: list(pattern(UV_TOOL, 'must be a Python package name, optionally with ==version')),
      }),
    ),
  });
}

/** Env keys a layer may not set: mino owns them (PATH goes through `[env.path_prepend]`). */
function reservedEnvKey(key: string): string | undefined {
  if (key === 'PATH') return 'PATH cannot be set directly; list directories in [env.path_prepend] dirs';
  if (key.startsWith('MINO_')) return 'MINO_* variables are reserved for mino';
  return undefined;
}

function invalid(file: string, key: string, problem: string): MinoError {
  return new MinoError(`Invalid layer file ${file}: ${key ? `${key}: ` : ''}${problem}`, {
    hint:
      'A layer.toml has [layer] name/description/version and optional [env], [env.path_prepend] dirs, ' +
      '[root_install] packages and [user_install] runtime/runtime_version/npm_globals/cargo_tools/uv_tools',
  });
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a table' : `${typeof value} ${printable(JSON.stringify(value) ?? String(value))}`;
}

function at(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur = raw;
  for (const k of path)
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

function keyName(path: readonly PropertyKey[]): string {
  const parts = path[0] === 'path_prepend' ? ['env', ...path] : [...path];
  return parts
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${printable(String(p))}`))
    .join('');
}

/**
 * Validates the parsed TOML of `file` (the directory's layer name is `expectedName`, when known).
 * Throws a MinoError naming the file and the offending key.
 */
function validateManifest(file: string, raw: unknown, expectedName?: string): LayerManifest {
  // [env.path_prepend] is a sub-table inside [env]; validate it on its own.
  let input = raw;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const { env, ...rest } = raw as Record<string, unknown>;
    if (env !== null && typeof env === 'object' && !Array.isArray(env) && !(env instanceof Date)) {
      const { path_prepend: pathPrepend, ...vars } = env as Record<string, unknown>;
      input = { ...rest, env: vars, ...(pathPrepend === undefined ? {} : { path_prepend: pathPrepend }) };
    }
  }
  manifestSchema ??= buildManifestSchema();
  const result = manifestSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = keyName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const prefix = key ? `${key}.` : '';
      throw invalid(file, '', `unknown key ${issue.keys.map((k) => `'${prefix}${printable(k)}'`).join(', ')}`);
    }
    if (issue.code === 'invalid_type') {
      const got = at(input, issue.path);
      throw invalid(
        file,
        key,
        got === undefined
          ? 'is required'
          : `must be ${issue.expected === 'object' ? 'a table' : `a ${issue.expected}`}, not ${describe(got)}`,
      );
    }
    if (issue.code === 'invalid_value') throw invalid(file, key, `must be one of ${USER_RUNTIMES.join(', ')}`);
    throw invalid(
      file,
      key,
      issue.message === 'Invalid input' ? `has an invalid value ${describe(at(input, issue.path))}` : issue.message,
    );
  }
  const m = result.data;
  if (expectedName !== undefined && m.layer.name !== expectedName) {
    throw invalid(
      file,
      'layer.name',
      `is '${printable(m.layer.name)}' but the layer directory is '${printable(expectedName)}'; they must match`,
    );
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(m.env ?? {})) {
    if (!ENV_KEY.test(key))
      throw invalid(
        file,
        `env.${printable(key)}`,
        'is not a valid environment variable name (letters, digits, _; not starting with a digit)',
      );
    const reserved = reservedEnvKey(key);
    if (reserved) throw invalid(file, `env.${key}`, reserved);
    if (CONTROL.test(value)) throw invalid(file, `env.${key}`, 'must not contain newlines or other control characters');
    if (value.length > 4096) throw invalid(file, `env.${key}`, 'must be at most 4096 characters');
    env[key] = value;
  }
  const u = m.user_install ?? {};
  return {
    name: m.layer.name,
    description: m.layer.description,
    version: m.layer.version,
    env,
    pathPrepend: m.path_prepend?.dirs ?? [],
    cachePaths: m.cache?.paths ?? [],
    rootPackages: m.root_install?.packages ?? [],
    userInstall: {
      ...(u.runtime === undefined ? {} : { runtime: u.runtime }),
      ...(u.runtime_version === undefined ? {} : { runtime_version: u.runtime_version }),
      npm_globals: u.npm_globals ?? [],
      cargo_tools: u.cargo_tools ?? [],
      uv_tools: u.uv_tools ?? [],
    },
  };
}

/** Parses and validates the text of `file`; `expectedName` is the layer's directory name. */
export async function parseLayerManifest(file: string, text: string, expectedName?: string): Promise<LayerManifest> {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES)
    throw invalid(file, '', `is larger than ${MAX_MANIFEST_BYTES / 1024} KiB`);
  const { parse } = await import('smol-toml');
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw invalid(file, '', `is not valid TOML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (expectedName !== undefined && !isValidLayerName(expectedName))
    throw invalid(file, '', `layer directory name '${printable(expectedName)}' is invalid`);
  return validateManifest(file, raw, expectedName);
}

/** True when `[user_install]` asks for anything. */
export function hasUserInstall(m: LayerManifest): boolean {
  const u = m.userInstall;
  return u.runtime !== undefined || u.npm_globals.length > 0 || u.cargo_tools.length > 0 || u.uv_tools.length > 0;
}
