import { MinoError } from '../common/errors.js';

/**
 * Editing containers.conf without clobbering it: one key is replaced or inserted in place, every
 * other line (comments included) stays as it was, and the result must still parse as TOML.
 */

/**
 * The containers.conf a user owns: system-wide for root, per-user for everyone else
 * (`$XDG_CONFIG_HOME/containers/containers.conf`, default `~/.config/...`).
 */
export function userContainersConfPath(uid: number, home: string | undefined, xdgConfigHome: string | undefined): string {
  if (uid === 0) return '/etc/containers/containers.conf';
  const base = xdgConfigHome && xdgConfigHome.startsWith('/') ? xdgConfigHome : `${home ?? ''}/.config`;
  return `${base}/containers/containers.conf`;
}

const TABLE_HEADER = /^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$/;
const ANY_HEADER = /^\s*\[\[?[^\]]*\]\]?\s*(?:#.*)?$/;

/** Net count of '[' minus ']' outside quoted strings and comments, to find where an array ends. */
function bracketDepth(line: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[') depth++;
    else if (c === ']') depth--;
  }
  return depth;
}

/**
 * Returns `text` with `key = <valueToml>` set inside `[table]`: an existing assignment (also a
 * multi-line array) is replaced where it stands, a missing key is added right below the table
 * header, and a missing table is appended. Everything else is kept byte for byte.
 */
export function setTomlKey(text: string, table: string, key: string, valueToml: string): string {
  const lines = text.split('\n');
  const assignment = `${key} = ${valueToml}`;
  const keyPattern = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`);
  let inTable = false;
  let headerIndex = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const header = TABLE_HEADER.exec(line);
    if (header || ANY_HEADER.test(line)) {
      if (inTable) break;
      inTable = header?.[1] === table;
      if (inTable) headerIndex = i;
      continue;
    }
    if (inTable && keyPattern.test(line)) {
      let end = i;
      let depth = bracketDepth(line.slice(line.indexOf('=') + 1));
      while (depth > 0 && end + 1 < lines.length) {
        end++;
        depth += bracketDepth(lines[end] ?? '');
      }
      lines.splice(i, end - i + 1, assignment);
      return lines.join('\n');
    }
  }
  if (headerIndex >= 0) {
    lines.splice(headerIndex + 1, 0, assignment);
    return lines.join('\n');
  }
  const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${prefix}${prefix === '' ? '' : '\n'}[${table}]\n${assignment}\n`;
}

/** Quotes a string as a TOML basic string. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** Formats a list of strings as a TOML array. */
export function tomlStringArray(values: readonly string[]): string {
  return `[${values.map(tomlString).join(', ')}]`;
}

/** Parses containers.conf text (smol-toml, loaded on demand), naming the file on error. */
export async function parseContainersConf(path: string, text: string): Promise<Record<string, unknown>> {
  const { parse } = await import('smol-toml');
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MinoError(`${path} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, {
      hint: `Fix or move ${path}; mino only edits a containers.conf it can parse`,
      cause: err,
    });
  }
}

/**
 * Merges ulimit settings into an existing `default_ulimits` list: entries for other limits are
 * kept, entries for the same limit names are replaced.
 */
export function mergeUlimits(existing: readonly string[], wanted: readonly string[]): string[] {
  const names = new Set(wanted.map((u) => u.split('=')[0]));
  return [...existing.filter((u) => !names.has(u.split('=')[0])), ...wanted];
}
