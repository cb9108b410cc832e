import { describe, expect, it } from 'vitest';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { assembleMounts, parseVolumeArg } from '../../../src/launch/volume-args.js';
import { buildContainerArgs } from '../../../src/runtime/podman/podman-args.js';
import { typicalInput } from '../launch/plan-input.js';
import { thrown } from '../../helpers/thrown.js';

const GUARD = { homeDir: '/home/me', allow: { home: false, system: false } };

describe('--volume with a named volume', () => {
  it('mounts mino-vol-<slug> when the left side is a slug', () => {
    expect(parseVolumeArg('data:/data', 'cli')).toEqual({
      source: 'mino-vol-data',
      target: '/data',
      readOnly: false,
      origin: 'cli',
      volume: 'data',
    });
    expect(parseVolumeArg('my_cache-2:/c/:ro', 'config')).toEqual({
      source: 'mino-vol-my_cache-2',
      target: '/c',
      readOnly: true,
      origin: 'config',
      volume: 'my_cache-2',
    });
  });

  it('keeps host paths working', () => {
    expect(parseVolumeArg('/srv/data:/data:ro', 'cli')).toEqual({
      source: '/srv/data',
      target: '/data',
      readOnly: true,
      origin: 'cli',
    });
  });

  it.each(['my.vol:/x', '-v:/x', '_x:/x', 'a b:/x', `${'x'.repeat(64)}:/x`])(
    'rejects %j (neither a path nor a slug)',
    (value) => {
      expect(thrown(() => parseVolumeArg(value, 'cli')).message).toContain('is not absolute');
    },
  );

  it('still checks the container path and mode of a named volume', () => {
    expect(thrown(() => parseVolumeArg('data:rel', 'cli')).message).toContain("container path 'rel' is not absolute");
    expect(thrown(() => parseVolumeArg('data:/', 'cli')).message).toContain('cannot mount over the container root /');
    expect(thrown(() => parseVolumeArg('data:/d:U', 'cli')).message).toContain("unknown mode 'U'");
  });

  it('finds a named volume and a host path at the same target', () => {
    expect(() => assembleMounts('/p/app', '/app', ['data:/d'], ['/srv:/d'], GUARD)).toThrow(
      'Two mounts use the container path /d: mino-vol-data (--volume) and /srv (config container.volumes)',
    );
  });

  it('keeps an exact repeat once', () => {
    expect(assembleMounts('/p/app', '/app', ['data:/d:ro'], ['data:/d:ro'], GUARD)).toHaveLength(2);
  });

  it('puts the slugs in the plan and on the container (io.mino.volumes), in mount order', () => {
    const plan = buildRunPlan(typicalInput({ cliVolumes: ['b:/b', '/h:/h', 'a:/a:ro'], configVolumes: ['b:/b'] }));
    expect(plan.namedVolumes).toEqual(['b', 'a']);
    expect(plan.spec.labels?.['io.mino.volumes']).toBe('b,a');
    const args = buildContainerArgs(plan.launchVerb, plan.spec);
    expect(args).toContain('mino-vol-b:/b');
    expect(args).toContain('mino-vol-a:/a:ro');
  });

  it('adds no volume label without named volumes', () => {
    const plan = buildRunPlan(typicalInput());
    expect(plan.namedVolumes).toEqual([]);
    expect(plan.spec.labels).not.toHaveProperty('io.mino.volumes');
  });
});

describe('home volume in the plan', () => {
  const home = 'mino-home-1b346e1cbf27'; // sha256('/home/alice/src/webapp')

  it('mounts mino-home-<hash> at /home/developer for mino images, last', () => {
    const plan = buildRunPlan(typicalInput({ home: true, cliVolumes: ['/h:/h'] }));
    expect(plan.homeVolume).toBe(home);
    expect(plan.mounts.at(-1)).toEqual({ source: home, target: '/home/developer', readOnly: false, origin: 'home' });
    expect(plan.spec.mounts?.at(-1)).toEqual({ source: home, target: '/home/developer', readOnly: false });
    expect(plan.spec.labels?.['io.mino.home-volume']).toBe(home);
  });

  it('is off unless asked for (--no-home), and for non-mino images', () => {
    expect(buildRunPlan(typicalInput()).homeVolume).toBeUndefined();
    expect(buildRunPlan(typicalInput({ home: false })).homeVolume).toBeUndefined();
    const other = buildRunPlan(
      typicalInput({ home: true, image: 'localhost/mino-test-busybox:latest', imageUser: undefined }),
    );
    expect(other.homeVolume).toBeUndefined();
    expect(other.mounts.map((m) => m.target)).not.toContain('/home/developer');
  });

  it('works for composed images too', () => {
    expect(
      buildRunPlan(typicalInput({ home: true, image: 'localhost/mino-composed-0123abcdef:latest' })).homeVolume,
    ).toBe(home);
  });

  it('gives way to a user mount at /home/developer (host path or named volume)', () => {
    for (const v of ['/srv/home:/home/developer', 'myhome:/home/developer/']) {
      const plan = buildRunPlan(typicalInput({ home: true, cliVolumes: [v] }));
      expect(plan.homeVolume).toBeUndefined();
      expect(plan.mounts.filter((m) => m.target === '/home/developer')).toHaveLength(1);
    }
  });

  it('replaces the /home/developer tmpfs under --read-only', () => {
    const withHome = buildRunPlan(typicalInput({ home: true, readOnly: true }));
    expect(withHome.spec.readOnly).toBe(true);
    expect(withHome.spec.tmpfs).toEqual(['/tmp', '/run', '/root']);
    const without = buildRunPlan(typicalInput({ home: false, readOnly: true }));
    expect(without.spec.tmpfs).toContain('/home/developer');
  });

  it('is keyed by the project path', () => {
    const a = buildRunPlan(typicalInput({ home: true, projectDir: '/home/alice/src/a' }));
    const b = buildRunPlan(typicalInput({ home: true, projectDir: '/home/alice/src/b' }));
    expect(a.homeVolume).toMatch(/^mino-home-[0-9a-f]{12}$/);
    expect(a.homeVolume).not.toBe(b.homeVolume);
  });
});
