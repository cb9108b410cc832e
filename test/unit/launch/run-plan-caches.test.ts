import { describe, expect, it } from 'vitest';
import type { CacheMount } from '../../../src/cache/cache-mounts.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { buildContainerArgs } from '../../../src/runtime/podman/podman-args.js';
import { typicalInput } from './plan-input.js';

function mount(ecosystem: CacheMount['ecosystem'], over: Partial<CacheMount> = {}): CacheMount {
  return {
    ecosystem,
    hash: 'a1b2c3d4e5f6',
    lockfile: 'x.lock',
    volume: `mino-cache-${ecosystem}-a1b2c3d4e5f6`,
    target: `/cache/${ecosystem}`,
    readOnly: false,
    state: 'miss',
    finalize: true,
    create: true,
    ...over,
  };
}

describe('run plan with dependency caches', () => {
  it('mounts two ecosystems at two paths (mino 1.6 mounted both at /cache, which podman refuses)', () => {
    const plan = buildRunPlan(
      typicalInput({ caches: [mount('npm'), mount('cargo', { readOnly: true, state: 'complete', finalize: false })] }),
    );
    const caches = plan.mounts.filter((m) => m.origin === 'cache');
    expect(caches.map((m) => [m.source, m.target, m.readOnly])).toEqual([
      ['mino-cache-npm-a1b2c3d4e5f6', '/cache/npm', false],
      ['mino-cache-cargo-a1b2c3d4e5f6', '/cache/cargo', true],
    ]);
    const args = buildContainerArgs('run', plan.spec);
    expect(args).toContain('mino-cache-npm-a1b2c3d4e5f6:/cache/npm');
    expect(args).toContain('mino-cache-cargo-a1b2c3d4e5f6:/cache/cargo:ro');
  });

  it('points the tools at the caches, below config and -e', () => {
    const plan = buildRunPlan(
      typicalInput({
        caches: [mount('npm'), mount('cargo')],
        layerEnv: { CARGO_HOME: '/home/developer/.cargo', npm_config_cache: '/somewhere' },
        cliEnv: ['npm_config_cache=/mine'],
      }),
    );
    expect(plan.spec.env).toMatchObject({
      npm_config_cache: '/mine',
      CARGO_HOME: '/cache/cargo',
      SCCACHE_DIR: '/cache/cargo/sccache',
    });
  });

  it('labels the container with its caches and those to complete on exit 0', () => {
    const plan = buildRunPlan(
      typicalInput({ caches: [mount('npm'), mount('go', { readOnly: true, state: 'complete', finalize: false })] }),
    );
    expect(plan.labels['io.mino.caches']).toBe('mino-cache-npm-a1b2c3d4e5f6,mino-cache-go-a1b2c3d4e5f6');
    expect(plan.labels['io.mino.caches.finalize']).toBe('mino-cache-npm-a1b2c3d4e5f6');
    expect(plan.spec.labels).toMatchObject(plan.labels);
  });

  it('leaves a cache out (with a warning) when the user mounts something at its path', () => {
    const plan = buildRunPlan(typicalInput({ caches: [mount('npm')], cliVolumes: ['/tmp/npm:/cache/npm'] }));
    expect(plan.caches).toEqual([]);
    expect(plan.spec.env).not.toHaveProperty('npm_config_cache');
    expect(plan.warnings.join('\n')).toMatch(/npm dependency cache is not mounted/);
  });

  it('adds nothing without caches', () => {
    const plan = buildRunPlan(typicalInput());
    expect(plan.caches).toEqual([]);
    expect(Object.keys(plan.labels).filter((k) => k.startsWith('io.mino.caches'))).toEqual([]);
  });
});
