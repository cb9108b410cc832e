import { describe, expect, it } from 'vitest';
import { resolveConfig, type EffectiveConfig } from '../../../src/config/effective-config.js';
import { runConfigOf } from '../../../src/config/run-config.js';

function effective(
  global: Record<string, unknown>,
  local: Record<string, unknown> | undefined,
  layers?: string,
): EffectiveConfig {
  const { config, sources, ignored } = resolveConfig(global, local);
  return {
    config,
    sources,
    ignored,
    globalPath: '/g',
    trust: {
      localStatus: 'trusted',
      layersStatus: 'absent',
      sensitive: [],
      ...(layers ? { projectLayersDir: layers } : {}),
    },
  };
}

describe('config values for mino run', () => {
  it("passes only what a file sets, so defaults stay the run's own", () => {
    const { credentials, ...rest } = runConfigOf(effective({}, undefined));
    expect(rest).toEqual({ layerProjectDir: undefined });
    // The credentials table is passed whole: a provider reads several keys together.
    expect(credentials?.aws).toEqual({ enabled: false, session_duration_secs: 3600 });
    expect(credentials?.github).toEqual({ enabled: true, host: 'github.com' });
  });

  it('maps set keys (local over global) and the trusted layer snapshot', () => {
    const run = runConfigOf(
      effective(
        { container: { network: 'none', env: { A: '1' } }, session: { shell: '/bin/zsh' }, home: { enabled: false } },
        {
          container: {
            volumes: ['/a:/a'],
            layers: ['python'],
            read_only: true,
            image: 'localhost/x:1',
            workdir: '/src',
          },
        },
        '/snap',
      ),
    );
    const { credentials: _c, ...set } = run;
    expect(set).toEqual({
      image: 'localhost/x:1',
      layers: ['python'],
      env: { A: '1' },
      volumes: ['/a:/a'],
      network: 'none',
      workdir: '/src',
      readOnly: true,
      shell: '/bin/zsh',
      home: false,
      layerProjectDir: '/snap',
    });
  });
});
