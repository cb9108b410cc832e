import { printable } from '../common/printable.js';
import { configKeys, OWN_CREDENTIAL_KEYS } from './config-keys.js';
import type { RawTable } from './config-file.js';
import { valueAt } from './merge-config.js';

/**
 * Which settings of a project file widen what a session may reach (every key the schema does
 * not mark harmless), and how they would change the configuration in effect.
 */

/** One sensitive setting of a project file. */
export interface SensitiveSetting {
  path: string;
  value: unknown;
  /** The value the global file or the default gives. */
  before: unknown;
}

/** The sensitive settings in `local`, compared with `base` (global file merged over defaults). */
export function sensitiveSettings(local: RawTable, base: RawTable): SensitiveSetting[] {
  const out: SensitiveSetting[] = [];
  for (const key of configKeys()) {
    if (!key.sensitive) continue;
    const value = valueAt(local, key.path);
    if (value === undefined) continue;
    out.push({ path: key.path, value, before: valueAt(base, key.path) ?? key.defaultValue });
  }
  // `[credentials.NAME]` tables of the user's own bind a secret to hosts: always sensitive.
  const credentials = valueAt(local, 'credentials');
  if (credentials !== null && typeof credentials === 'object' && !Array.isArray(credentials)) {
    for (const [name, value] of Object.entries(credentials)) {
      if (OWN_CREDENTIAL_KEYS.has(name)) continue;
      out.push({ path: `credentials.${name}`, value, before: valueAt(base, `credentials.${name}`) });
    }
  }
  return out;
}

/** A short, printable rendering of a value (arrays and tables cut at 5 entries). */
export function renderValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 5).map((v) => renderValue(v));
    return `[${shown.join(', ')}${value.length > 5 ? `, … ${value.length - 5} more` : ''}]`;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const shown = entries.slice(0, 5).map(([k, v]) => `${printable(k)} = ${renderValue(v)}`);
    return `{ ${shown.join(', ')}${entries.length > 5 ? `, … ${entries.length - 5} more` : ''} }`;
  }
  return typeof value === 'string' ? printable(JSON.stringify(value)) : printable(String(value));
}
