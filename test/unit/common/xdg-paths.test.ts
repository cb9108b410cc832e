import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minoPaths } from '../../../src/common/xdg-paths.js';

describe('minoPaths', () => {
  it('uses the XDG directories when they are absolute', () => {
    expect(
      minoPaths({
        HOME: '/home/alice',
        XDG_CONFIG_HOME: '/cfg',
        XDG_STATE_HOME: '/state',
        XDG_DATA_HOME: '/data',
      }),
    ).toEqual({ configDir: '/cfg/mino', stateDir: '/state/mino', dataDir: '/data/mino' });
  });

  it('falls back to the spec defaults under HOME', () => {
    expect(minoPaths({ HOME: '/home/alice' })).toEqual({
      configDir: '/home/alice/.config/mino',
      stateDir: '/home/alice/.local/state/mino',
      dataDir: '/home/alice/.local/share/mino',
    });
  });

  it('ignores relative and empty XDG values, as the spec requires', () => {
    expect(
      minoPaths({ HOME: '/home/alice', XDG_CONFIG_HOME: 'cfg', XDG_STATE_HOME: './state', XDG_DATA_HOME: '' }),
    ).toEqual({
      configDir: '/home/alice/.config/mino',
      stateDir: '/home/alice/.local/state/mino',
      dataDir: '/home/alice/.local/share/mino',
    });
  });

  it('uses the account home directory when HOME is missing or relative', () => {
    const expected = {
      configDir: join(homedir(), '.config', 'mino'),
      stateDir: join(homedir(), '.local', 'state', 'mino'),
      dataDir: join(homedir(), '.local', 'share', 'mino'),
    };
    expect(minoPaths({})).toEqual(expected);
    expect(minoPaths({ HOME: 'alice' })).toEqual(expected);
  });
});
