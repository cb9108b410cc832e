import { describe, expect, it } from 'vitest';
import { computePathPrepend, layerManifestJson, mergeLayerEnv, runtimeLayerEnv } from '../../../src/layer/layer-env.js';
import { fixtureLayer } from './fixtures.js';

describe('layer environment', () => {
  it('merges [env] with the last layer winning', async () => {
    const env = mergeLayerEnv([await fixtureLayer('alpha'), await fixtureLayer('beta')], 'runtime');
    expect(env.SHARED).toBe('from-beta');
    expect(env.ALPHA_HOME).toBe('/opt/alpha');
    expect(env.EMPTY).toBe('');
    expect(env.PATH).toBeUndefined();
    expect(env.MINO_PATH_PREPEND).toBe('/opt/alpha/bin:/cache/shared/bin:/home/developer/.beta/bin');
  });

  it('puts PATH as <dirs>:${PATH} for a Containerfile', async () => {
    const env = mergeLayerEnv([await fixtureLayer('alpha')], 'containerfile');
    expect(env.PATH).toBe('/opt/alpha/bin:/cache/shared/bin:${PATH}');
    expect(env.MINO_PATH_PREPEND).toBeUndefined();
  });

  it('deduplicates PATH directories', async () => {
    const alpha = await fixtureLayer('alpha');
    expect(computePathPrepend([alpha, alpha])).toBe('/opt/alpha/bin:/cache/shared/bin');
  });

  it('has no PATH prepend and no manifest for layers without them', async () => {
    const alpha = await fixtureLayer('alpha');
    expect(layerManifestJson([alpha])).toBeUndefined();
    const noPath = { ...alpha, manifest: { ...alpha.manifest, pathPrepend: [] } };
    expect(computePathPrepend([noPath])).toBeUndefined();
    expect(runtimeLayerEnv([noPath], true)).toEqual({});
  });

  it('passes only bootstrap variables when the env is baked into the image', async () => {
    const env = runtimeLayerEnv([await fixtureLayer('alpha'), await fixtureLayer('gamma')], true);
    expect(env).toEqual({
      MINO_PATH_PREPEND: '/opt/alpha/bin:/cache/shared/bin:/home/developer/.gamma/bin',
      MINO_LAYER_MANIFEST:
        '[{"name":"gamma","runtime":"nvm","runtime_version":"22","npm_globals":["pnpm","@biomejs/biome@1.9.4"]}]',
    });
  });
});
