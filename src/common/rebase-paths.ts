/**
 * Moves plain data from one folder to another: every string equal to `from`, or starting with
 * `from/`, gets `to` in place of `from` (at any depth of objects and arrays). A branch session's
 * plan names its working copy's folder in mounts, labels and the like: the warm pool keys such a
 * plan with a placeholder there and starts its warm containers with a folder of their own.
 */

/** `value` with the folder `from` replaced by `to` in every string (see the module comment). Pure; a copy. */
export function rebasePaths<T>(value: T, from: string, to: string): T {
  return move(value, from, to) as T;
}

function move(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string')
    return value === from ? to : value.startsWith(`${from}/`) ? `${to}${value.slice(from.length)}` : value;
  if (Array.isArray(value)) return value.map((v) => move(v, from, to));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, move(v, from, to)]));
  return value;
}
