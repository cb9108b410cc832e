import type { Ecosystem } from './lockfiles.js';

/**
 * Where each ecosystem's cache is mounted and the environment that points the tools at it.
 * mino 1.6 mounted every cache volume at `/cache` (two lockfiles = two mounts on one path, which
 * podman refuses); here each ecosystem has its own mount point `/cache/<ecosystem>`, and every
 * variable points inside a mounted cache. Variables two ecosystems share (`npm_config_cache` for
 * npm/yarn/pnpm, `PIP_CACHE_DIR` for pip/poetry) go to the owning ecosystem when its cache is
 * mounted, else into the first borrowing ecosystem's cache. `XDG_CACHE_HOME=/cache/xdg` (mino 1.6)
 * is not set: no volume is mounted there any more, and the home volume already keeps ~/.cache.
 */

/** Mount point of an ecosystem's cache volume. */
export function cacheTarget(ecosystem: Ecosystem): string {
  return `/cache/${ecosystem}`;
}

/** Variables an ecosystem sets for its own tools. */
const OWN: Readonly<Record<Ecosystem, ReadonlyArray<[string, string]>>> = {
  npm: [['npm_config_cache', '']],
  yarn: [['YARN_CACHE_FOLDER', '']],
  pnpm: [['PNPM_HOME', '']],
  cargo: [
    ['CARGO_HOME', ''],
    ['SCCACHE_DIR', '/sccache'],
  ],
  pip: [['PIP_CACHE_DIR', '']],
  poetry: [['POETRY_CACHE_DIR', '']],
  uv: [['UV_CACHE_DIR', '']],
  go: [
    ['GOMODCACHE', '/mod'],
    ['GOCACHE', '/build'],
  ],
};

/** Shared variables an ecosystem also sets (mino 1.6: yarn and pnpm set npm's, poetry pip's). */
const BORROWED: ReadonlyArray<{ from: Ecosystem; owner: Ecosystem; name: string; sub: string }> = [
  { from: 'yarn', owner: 'npm', name: 'npm_config_cache', sub: '/npm' },
  { from: 'pnpm', owner: 'npm', name: 'npm_config_cache', sub: '/npm' },
  { from: 'poetry', owner: 'pip', name: 'PIP_CACHE_DIR', sub: '/pip' },
];

/** The environment for the mounted caches of `ecosystems` (empty when none). */
export function cacheEnv(ecosystems: readonly Ecosystem[]): Record<string, string> {
  const env: Record<string, string> = {};
  const mounted = new Set(ecosystems);
  for (const eco of ecosystems) {
    for (const [name, sub] of OWN[eco]) env[name] = `${cacheTarget(eco)}${sub}`;
  }
  for (const b of BORROWED) {
    if (mounted.has(b.from) && !mounted.has(b.owner) && env[b.name] === undefined) {
      env[b.name] = `${cacheTarget(b.from)}${b.sub}`;
    }
  }
  return env;
}
