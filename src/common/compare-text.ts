/**
 * Orders two strings by UTF-16 code unit (what `Array.prototype.sort` does without a comparator):
 * deterministic and free. `localeCompare` is not: its first call in a process loads ICU's
 * collator, 8–19 ms of CPU on this project's 2-core machine, on the path of every `mino run`
 * (protected paths, pool keys, warm entries). Use it where an order only needs to be stable, not
 * to read well to a person.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
