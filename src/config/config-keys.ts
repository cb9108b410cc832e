import { configSchema, keyMeta, type KeyMeta } from './config-schema.js';

/**
 * The leaf keys of the configuration, read from the schema itself (so `config set`, `config
 * show`, templates and completions never keep their own lists), and "did you mean" suggestions.
 */

/** The value type of a leaf key, for parsing `config set` values and writing templates. */
type KeyKind = 'boolean' | 'integer' | 'string' | 'enum' | 'string-list' | 'string-map';

/** One leaf key of the configuration. */
export interface ConfigKey extends KeyMeta {
  /** Dotted path, e.g. `container.network` or `credentials.aws.enabled`. */
  path: string;
  /** Table part (`credentials.aws`) and key part (`enabled`). */
  table: string;
  name: string;
  kind: KeyKind;
  /** Allowed values of an enum. */
  values?: readonly string[];
  /** The default, or undefined for keys that are unset unless a file sets them. */
  defaultValue: unknown;
}

interface Def {
  type: string;
  innerType?: { _zod: { def: Def } };
  shape?: Record<string, { _zod: { def: Def } }>;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  checks?: Array<{ _zod: { def: { check?: string; format?: string } } }>;
}

function defOf(schema: unknown): Def {
  return (schema as { _zod: { def: Def } })._zod.def;
}

function kindOf(def: Def): { kind: KeyKind; values?: string[] } {
  switch (def.type) {
    case 'boolean':
      return { kind: 'boolean' };
    case 'number':
      return { kind: 'integer' };
    case 'enum':
      return { kind: 'enum', values: Object.values(def.entries ?? {}) };
    case 'array':
      return { kind: 'string-list' };
    case 'record':
      return { kind: 'string-map' };
    default:
      return { kind: 'string' };
  }
}

/**
 * The tables and keys of `[credentials]` that are mino's own (any other table there is a user's
 * credential). Kept as a list so that a run need not build the schema to tell them apart (zod
 * builds it on first use, ~5 ms of CPU); a unit test checks it against the schema.
 */
export const OWN_CREDENTIAL_KEYS: ReadonlySet<string> = new Set([
  'strict',
  'aws',
  'gcp',
  'azure',
  'github',
  'ssh_agent',
]);

let keys: ConfigKey[] | undefined;

/** Every leaf key, in schema order. */
export function configKeys(): readonly ConfigKey[] {
  if (keys) return keys;
  const out: ConfigKey[] = [];
  const walk = (schema: unknown, path: string[]): void => {
    const meta = keyMeta.get(schema as never);
    const def = defOf(schema);
    if (meta) {
      const inner = def.innerType ? defOf(def.innerType) : def;
      const value = def.type === 'default' ? def.defaultValue : undefined;
      const defaultValue = typeof value === 'function' ? (value as () => unknown)() : value;
      out.push({
        ...meta,
        path: path.join('.'),
        table: path.slice(0, -1).join('.'),
        name: path[path.length - 1]!,
        ...kindOf(inner),
        defaultValue,
      });
      return;
    }
    if (def.type === 'prefault' && def.innerType) walk(def.innerType, path);
    else if (def.type === 'object' && def.shape) {
      for (const [name, child] of Object.entries(def.shape)) walk(child, [...path, name]);
    }
  };
  walk(configSchema(), []);
  keys = out;
  return out;
}

/** The tables (`general`, `credentials.aws`, ...) in schema order. */
export function configTables(): string[] {
  return [...new Set(configKeys().map((k) => k.table))];
}

/**
 * Keys read from the global config file only: the `[session]` timeouts act on every session of
 * the state directory, whatever project it belongs to (lifecycle/session-settings.ts), so a project's
 * `.mino.toml` cannot change them; its values for them are ignored (and shown as ignored).
 */
export const GLOBAL_ONLY_KEYS: readonly string[] = [
  'session.idle_timeout_secs',
  'session.detach_timeout_secs',
  'session.suspend_timeout_secs',
  'session.auto_cleanup_hours',
];

/** The leaf key at a dotted path, or undefined. */
export function findKey(path: string): ConfigKey | undefined {
  return configKeys().find((k) => k.path === path);
}

/** Edit distance between two strings (Levenshtein). */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The valid key (leaf or table) closest to `path`: first a key with the same last part in
 * another table (`network` → `container.network`), then the nearest by edit distance.
 */
export function closestKey(path: string): string | undefined {
  const candidates = [...configKeys().map((k) => k.path), ...configTables()];
  const last = path.split('.').pop() ?? path;
  const sameName = configKeys().find((k) => k.name === last && k.path !== path);
  if (sameName && !candidates.includes(path)) return sameName.path;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const score = editDistance(path, c);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(3, Math.floor(path.length / 3)) ? best : undefined;
}
