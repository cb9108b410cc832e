import type { RawTable } from './config-file.js';

/**
 * mino 1.6's merge of a global and a project file: tables merge key by key (recursively); arrays
 * and scalars from the later file replace the earlier value whole.
 */

function isTable(value: unknown): value is RawTable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** Deep-merges `over` onto `base` without modifying either. */
export function mergeConfig(base: RawTable, over: RawTable): RawTable {
  const out: RawTable = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isTable(prev) && isTable(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

/** The value at a dotted path of a raw table, or undefined. */
export function valueAt(raw: RawTable | undefined, path: string): unknown {
  let cur: unknown = raw;
  for (const part of path.split('.')) {
    if (!isTable(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}
