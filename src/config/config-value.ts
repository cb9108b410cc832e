import { parse } from 'smol-toml';
import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { closestKey, configKeys, findKey, type ConfigKey } from './config-keys.js';

/**
 * What `config set/get/unset KEY` addresses, and turning the VALUE typed on the command line into
 * the key's type (the schema then validates it). A `string-map` key also takes one entry:
 * `container.env.EDITOR`.
 */

/** A key of `config set/get/unset`: a leaf, or one entry of a map leaf. */
export interface KeyTarget {
  key: ConfigKey;
  /** Set for `container.env.NAME`: the entry name. */
  entry?: string;
  /** The dotted path as typed. */
  path: string;
}

/** Resolves KEY; unknown keys are a usage error naming the closest valid key. */
export function resolveKeyTarget(path: string): KeyTarget {
  const key = findKey(path);
  if (key) return { key, path };
  const map = configKeys().find((k) => k.kind === 'string-map' && path.startsWith(`${k.path}.`));
  if (map) return { key: map, entry: path.slice(map.path.length + 1), path };
  const near = closestKey(path);
  throw new UsageError(
    `Unknown config key '${printable(path)}'`,
    near ? `Did you mean '${near}'? 'mino config show' lists every key` : "'mino config show' lists every key",
  );
}

function tomlLiteral(what: string, text: string): unknown {
  try {
    return (parse(`v = ${text}`) as { v: unknown }).v;
  } catch {
    throw new UsageError(
      `Invalid ${what} '${printable(text)}'`,
      'Write a TOML value, e.g. ["a", "b"] or { NAME = "value" }',
    );
  }
}

/** Converts a command-line VALUE to the type of the target key. */
export function parseKeyValue(target: KeyTarget, text: string): unknown {
  if (target.entry !== undefined) return text;
  const { key } = target;
  switch (key.kind) {
    case 'boolean': {
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw new UsageError(
        `${key.path} takes true or false, not '${printable(text)}'`,
        `E.g. mino config set ${key.path} true`,
      );
    }
    case 'integer': {
      if (!/^-?[0-9]{1,15}$/.test(text))
        throw new UsageError(
          `${key.path} takes a whole number, not '${printable(text)}'`,
          `E.g. mino config set ${key.path} ${String(key.defaultValue ?? 0)}`,
        );
      return Number(text);
    }
    case 'string-list': {
      if (text.trim().startsWith('[')) return tomlLiteral(`value for ${key.path}`, text);
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    case 'string-map': {
      if (text.trim().startsWith('{')) return tomlLiteral(`value for ${key.path}`, text);
      throw new UsageError(
        `${key.path} takes a table such as '{ NAME = "value" }'`,
        `Or set one entry: mino config set ${key.path}.NAME value`,
      );
    }
    case 'enum': {
      if (!key.values?.includes(text))
        throw new UsageError(
          `${key.path} must be one of ${key.values?.join(', ')}, not '${printable(text)}'`,
          `E.g. mino config set ${key.path} ${key.values?.[0] ?? ''}`,
        );
      return text;
    }
    default:
      return text;
  }
}
