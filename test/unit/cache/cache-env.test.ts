import { describe, expect, it } from 'vitest';
import { cacheEnv, cacheTarget } from '../../../src/cache/cache-env.js';

describe('cache environment', () => {
  it('mounts each ecosystem at its own /cache/<ecosystem>', () => {
    expect(cacheTarget('npm')).toBe('/cache/npm');
    expect(cacheTarget('cargo')).toBe('/cache/cargo');
  });

  it("sets mino 1.6's variables, each pointing inside the ecosystem's own mount", () => {
    expect(cacheEnv(['npm'])).toEqual({ npm_config_cache: '/cache/npm' });
    expect(cacheEnv(['cargo'])).toEqual({ CARGO_HOME: '/cache/cargo', SCCACHE_DIR: '/cache/cargo/sccache' });
    expect(cacheEnv(['go'])).toEqual({ GOMODCACHE: '/cache/go/mod', GOCACHE: '/cache/go/build' });
    expect(cacheEnv(['uv'])).toEqual({ UV_CACHE_DIR: '/cache/uv' });
  });

  it('points shared variables into a mounted cache: the owner when present, else the borrower', () => {
    expect(cacheEnv(['yarn'])).toEqual({ YARN_CACHE_FOLDER: '/cache/yarn', npm_config_cache: '/cache/yarn/npm' });
    expect(cacheEnv(['npm', 'yarn'])).toEqual({ npm_config_cache: '/cache/npm', YARN_CACHE_FOLDER: '/cache/yarn' });
    expect(cacheEnv(['yarn', 'pnpm'])).toMatchObject({ npm_config_cache: '/cache/yarn/npm', PNPM_HOME: '/cache/pnpm' });
    expect(cacheEnv(['poetry'])).toEqual({ POETRY_CACHE_DIR: '/cache/poetry', PIP_CACHE_DIR: '/cache/poetry/pip' });
    expect(cacheEnv(['pip', 'poetry'])).toEqual({ PIP_CACHE_DIR: '/cache/pip', POETRY_CACHE_DIR: '/cache/poetry' });
  });

  it('sets nothing without caches, and never XDG_CACHE_HOME (nothing is mounted at /cache/xdg)', () => {
    expect(cacheEnv([])).toEqual({});
    expect(cacheEnv(['npm', 'cargo', 'go'])).not.toHaveProperty('XDG_CACHE_HOME');
  });
});
