import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/common/errors.js';
import { selectLayers } from '../../../src/layer/select-layers.js';

describe('layer selection precedence', () => {
  it('--layers wins over MINO_LAYERS and config', () => {
    expect(
      selectLayers({ cliLayers: ['rust,python'], envLayers: 'typescript', configLayers: ['x'], configImage: 'ts' }),
    ).toEqual({ kind: 'layers', names: ['rust', 'python'], from: 'cli' });
  });

  it('accepts repeated --layers values and removes duplicates', () => {
    expect(selectLayers({ cliLayers: ['rust', ' python , rust'] })).toEqual({
      kind: 'layers',
      names: ['rust', 'python'],
      from: 'cli',
    });
  });

  it('--layers with --image is a usage error (exit 2) with a hint', () => {
    let err: unknown;
    try {
      selectLayers({ cliLayers: ['rust'], cliImage: 'debian:12' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ exitCode: 2, message: '--layers and --image cannot be used together' });
    expect((err as UsageError).hint).toContain('--image');
  });

  it('--image wins over MINO_LAYERS and config layers', () => {
    expect(selectLayers({ cliImage: 'localhost/thing:1', envLayers: 'rust', configLayers: ['python'] })).toEqual({
      kind: 'image',
      image: 'localhost/thing:1',
      from: 'cli',
    });
  });

  it('--image with a layer alias composes that layer', () => {
    expect(selectLayers({ cliImage: 'ts', envLayers: 'rust' })).toEqual({
      kind: 'layers',
      names: ['typescript'],
      from: 'image-alias',
    });
    expect(selectLayers({ cliImage: 'python' })).toEqual({ kind: 'layers', names: ['python'], from: 'image-alias' });
  });

  it('MINO_LAYERS wins over config', () => {
    expect(selectLayers({ envLayers: 'py, cargo', configLayers: ['typescript'] })).toEqual({
      kind: 'layers',
      names: ['py', 'cargo'],
      from: 'env',
    });
  });

  it('an empty MINO_LAYERS is ignored', () => {
    expect(selectLayers({ envLayers: ' , ', configLayers: ['rust'] })).toEqual({
      kind: 'layers',
      names: ['rust'],
      from: 'config',
    });
  });

  it('config layers win over a configured image', () => {
    expect(selectLayers({ configLayers: ['rust'], configImage: 'debian:12' })).toEqual({
      kind: 'layers',
      names: ['rust'],
      from: 'config',
    });
  });

  it('a configured image alias composes that layer, another image runs as is', () => {
    expect(selectLayers({ configImage: 'cargo' })).toEqual({ kind: 'layers', names: ['rust'], from: 'image-alias' });
    expect(selectLayers({ configImage: 'debian:12' })).toEqual({ kind: 'image', image: 'debian:12', from: 'config' });
  });

  it('nothing chosen is the default', () => {
    expect(selectLayers({})).toEqual({ kind: 'default' });
  });

  it('validates layer names from every source', () => {
    expect(() => selectLayers({ cliLayers: ['../x'] })).toThrow(/Invalid layer name/);
    expect(() => selectLayers({ envLayers: 'ok,b@d' })).toThrow(/Invalid layer name/);
    expect(() => selectLayers({ configLayers: ['a b'] })).toThrow(/Invalid layer name/);
    expect(() => selectLayers({ cliLayers: [','] })).toThrow(/--layers names no layer/);
  });
});
