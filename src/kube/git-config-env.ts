/**
 * Git's configuration by environment (`GIT_CONFIG_COUNT`, `GIT_CONFIG_KEY_<n>`,
 * `GIT_CONFIG_VALUE_<n>`) holds together: git refuses to run when a counted pair is missing. When
 * a Pod leaves out some values (they name files it does not have), the remaining pairs are
 * renumbered from 0 and the count set to match, or all three kinds go when none remains.
 */

const KEY = /^GIT_CONFIG_KEY_(\d+)$/;
const VALUE = /^GIT_CONFIG_VALUE_(\d+)$/;

/** `env` without the git pairs whose value names are in `gone`, the rest renumbered (order kept otherwise). */
export function withoutGitConfigPairs(env: readonly [string, string][], gone: ReadonlySet<string>): [string, string][] {
  const lost = new Set<string>();
  for (const name of gone) {
    const n = VALUE.exec(name)?.[1];
    if (n !== undefined) lost.add(n);
  }
  if (lost.size === 0) return [...env];
  const count = Number(env.find(([name]) => name === 'GIT_CONFIG_COUNT')?.[1] ?? '0');
  const kept = [...Array(Number.isInteger(count) && count > 0 ? count : 0).keys()]
    .map(String)
    .filter((n) => !lost.has(n));
  const renumber = new Map(kept.map((n, i) => [n, String(i)]));
  const out: [string, string][] = [];
  for (const [name, value] of env) {
    if (name === 'GIT_CONFIG_COUNT') {
      if (kept.length > 0) out.push([name, String(kept.length)]);
      continue;
    }
    const n = KEY.exec(name)?.[1] ?? VALUE.exec(name)?.[1];
    if (n === undefined) {
      out.push([name, value]);
      continue;
    }
    const to = renumber.get(n);
    if (to !== undefined) out.push([name.replace(/\d+$/, to), value]);
  }
  return out;
}
