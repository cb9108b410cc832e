import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/config-file.js';
import { resolveConfig } from '../../../src/config/effective-config.js';
import { runConfigOf } from '../../../src/config/run-config.js';
import { sensitiveSettings } from '../../../src/config/sensitive-keys.js';

describe('network configuration', () => {
  it('checks network_allow entries with the rule parser', () => {
    expect(() =>
      validateConfig('f', {
        container: { network_allow: ['github.com:443', '*.example.com:443', '[2001:db8::1]:22'] },
      }),
    ).not.toThrow();
    for (const bad of ['github.com', 'a.*.b:1', 'x:0', 'localhost:80']) {
      expect(() => validateConfig('f', { container: { network_allow: [bad] } }), bad).toThrow(
        /container\.network_allow\[0\] must be HOST:PORT/,
      );
    }
    expect(() => validateConfig('f', { container: { network_preset: 'all' } })).toThrow(/network_preset/);
    expect(() => validateConfig('f', { container: { network: 'learn' } })).not.toThrow();
  });

  it('hands the set keys to mino run, and leaves unset ones to its defaults', () => {
    const set = resolveConfig(undefined, { container: { network_allow: ['a.test:443'], network_preset: 'dev' } });
    expect(runConfigOf({ ...set, trust: { projectLayersDir: undefined } } as never)).toMatchObject({
      networkAllow: ['a.test:443'],
      networkPreset: 'dev',
    });
    const none = resolveConfig(undefined, undefined);
    const rc = runConfigOf({ ...none, trust: { projectLayersDir: undefined } } as never);
    expect(rc.networkAllow).toBeUndefined();
    expect(rc.networkPreset).toBeUndefined();
  });

  it('needs trust before a project file widens the network', () => {
    const paths = sensitiveSettings(
      { container: { network_allow: ['a.test:443'], network_preset: 'dev', network: 'learn' } },
      {},
    ).map((s) => s.path);
    expect(paths).toEqual(
      expect.arrayContaining(['container.network', 'container.network_allow', 'container.network_preset']),
    );
  });
});
