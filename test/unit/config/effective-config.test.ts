import { describe, expect, it } from 'vitest';
import { GLOBAL_ONLY_KEYS, configKeys, findKey } from '../../../src/config/config-keys.js';
import { resolveConfig } from '../../../src/config/effective-config.js';
import { globalConfigPath } from '../../../src/config/discover-config.js';
import { mergeConfig } from '../../../src/config/merge-config.js';
import { sweepSettingsOf } from '../../../src/lifecycle/session-settings.js';

describe('merging global and project config', () => {
  it('merges tables key by key and replaces arrays and scalars whole', () => {
    const global = {
      container: { network: 'none', volumes: ['/a:/a'], env: { A: '1', B: '2' } },
      session: { shell: '/bin/zsh' },
    };
    const local = { container: { volumes: ['/b:/b'], env: { B: 'local' } } };
    expect(mergeConfig(global, local)).toEqual({
      container: { network: 'none', volumes: ['/b:/b'], env: { A: '1', B: 'local' } },
      session: { shell: '/bin/zsh' },
    });
    expect(global.container.env).toEqual({ A: '1', B: '2' });
  });

  it('fills defaults and records where every value came from (local > global > default)', () => {
    const { config, sources } = resolveConfig(
      { container: { network: 'none', read_only: true } },
      { container: { network: 'host' } },
    );
    expect(config.container.network).toBe('host');
    expect(config.container.read_only).toBe(true);
    expect(config.container.workdir).toBe('/workspace');
    // No default shell in the schema: the run takes the image's best shell (config/defaults.ts).
    expect(config.session.shell).toBeUndefined();
    expect(config.container.image).toBeUndefined();
    expect(sources['container.network']).toBe('local');
    expect(sources['container.read_only']).toBe('global');
    expect(sources['container.workdir']).toBe('default');
    expect(Object.keys(sources)).toHaveLength(configKeys().length);
  });

  it('reads keys, kinds and defaults from the schema', () => {
    expect(findKey('container.network')).toMatchObject({
      kind: 'enum',
      values: ['bridge', 'host', 'none', 'learn'],
      defaultValue: undefined,
      sensitive: true,
    });
    expect(findKey('container.read_only')).toMatchObject({ kind: 'boolean', defaultValue: false, sensitive: false });
    expect(findKey('credentials.aws.session_duration_secs')).toMatchObject({
      kind: 'integer',
      table: 'credentials.aws',
      name: 'session_duration_secs',
    });
    expect(findKey('container.env')?.kind).toBe('string-map');
    expect(findKey('container.layers')?.kind).toBe('string-list');
    expect(findKey('image.base_from')).toMatchObject({ kind: 'string', defaultValue: undefined });
    // Every key that widens access is sensitive; the harmless ones are few and named.
    expect(
      configKeys()
        .filter((k) => !k.sensitive)
        .map((k) => k.path)
        .sort(),
    ).toEqual([
      'container.host_ca_certificates',
      'container.read_only',
      'general.log_format',
      'general.update_check',
      'general.verbose',
      'protect.paths',
      'session.auto_cleanup_hours',
      'session.detach_timeout_secs',
      'session.idle_timeout_secs',
      'session.suspend_timeout_secs',
    ]);
  });

  it('finds the global file: -c > MINO_CONFIG > XDG_CONFIG_HOME', () => {
    expect(globalConfigPath('/x/c.toml', { MINO_CONFIG: '/y.toml' })).toEqual({ path: '/x/c.toml', explicit: true });
    expect(globalConfigPath(undefined, { MINO_CONFIG: '/y.toml' })).toEqual({ path: '/y.toml', explicit: true });
    expect(globalConfigPath(undefined, { XDG_CONFIG_HOME: '/xdg' })).toEqual({
      path: '/xdg/mino/config.toml',
      explicit: false,
    });
  });
});

describe('global-only keys ([session] timeouts)', () => {
  it("leaves a project's [session] timeouts out of the merge and reports them as ignored", () => {
    const r = resolveConfig(
      { session: { detach_timeout_secs: 900 } },
      { session: { idle_timeout_secs: 60, detach_timeout_secs: 5, shell: '/bin/bash' } },
    );
    expect(r.config.session).toMatchObject({ idle_timeout_secs: 300, detach_timeout_secs: 900, shell: '/bin/bash' });
    expect(r.sources['session.idle_timeout_secs']).toBe('default');
    expect(r.sources['session.detach_timeout_secs']).toBe('global');
    expect(r.sources['session.shell']).toBe('local');
    expect(r.ignored).toEqual({ 'session.idle_timeout_secs': 60, 'session.detach_timeout_secs': 5 });
  });

  it('matches what the sweep applies: the global file only', () => {
    expect(GLOBAL_ONLY_KEYS).toEqual([
      'session.idle_timeout_secs',
      'session.detach_timeout_secs',
      'session.suspend_timeout_secs',
      'session.auto_cleanup_hours',
    ]);
    const local = { session: { idle_timeout_secs: 60 } };
    const eff = resolveConfig({}, local);
    expect(sweepSettingsOf(eff.config)).toEqual(sweepSettingsOf(resolveConfig({}, undefined).config));
    expect(local).toEqual({ session: { idle_timeout_secs: 60 } }); // the caller's table is not changed
  });
});
