import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createNamedVolume,
  listNamedVolumes,
  namedVolumeInfo,
  removeNamedVolume,
  runningUsers,
} from '../../../src/resources/manage-volumes.js';
import { prepareVolumes } from '../../../src/run/prepare-volumes.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { buildRunPlan } from '../../../src/launch/run-plan.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { VolumeStore } from '../../../src/volume/volume-store.js';
import { typicalInput } from '../launch/plan-input.js';

/** What a promise rejected with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & { hint?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { hint?: string };
  }
  throw new Error('expected a rejection');
}

describe('named volume use cases', () => {
  let state: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  const said: string[] = [];

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-managevol-'));
    engine = new FakeRuntime();
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    said.length = 0;
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it('create makes the labelled podman volume and the metadata', async () => {
    const v = await createNamedVolume(ctx, 'data', '2GB', new Date('2026-01-01T00:00:00Z'));
    expect(v).toMatchObject({ slug: 'data', volume: 'mino-vol-data', sizeLimitBytes: 2 * 1024 ** 3, exists: true });
    expect(engine.volumes.get('mino-vol-data')?.labels).toEqual({
      'io.mino.volume': 'true',
      'io.mino.volume.slug': 'data',
      'io.mino.volume.created_at': '2026-01-01T00:00:00.000Z',
    });
    expect(new VolumeStore(state).get('data')?.size_bytes).toBe(2 * 1024 ** 3);
  });

  it('create refuses bad names, bad sizes, a zero limit and an existing volume before creating anything', async () => {
    await expect(createNamedVolume(ctx, 'a b', undefined)).rejects.toThrow("Invalid volume name 'a b'");
    await expect(createNamedVolume(ctx, 'data', '2XB')).rejects.toThrow("Invalid size '2XB': unknown unit 'XB'");
    await expect(createNamedVolume(ctx, 'data', '0')).rejects.toThrow('a limit must be more than 0 bytes');
    expect(engine.calls).toEqual([]);
    await createNamedVolume(ctx, 'data', undefined);
    await expect(createNamedVolume(ctx, 'data', undefined)).rejects.toThrow("Volume 'data' already exists");
  });

  it('list merges podman and metadata, measures once, and flags volumes over their limit', async () => {
    await createNamedVolume(ctx, 'big', '1KB');
    await createNamedVolume(ctx, 'small', undefined);
    engine.volumes.set('mino-vol-foreign', {
      name: 'mino-vol-foreign',
      labels: { 'io.mino.volume.created_at': '2025-01-01T00:00:00.000Z' },
    });
    new VolumeStore(state).markUsed('gone');
    engine.usage.set('mino-vol-big', 4096).set('mino-vol-small', 10);
    engine.clearCalls();
    const { volumes } = await listNamedVolumes(ctx);
    expect(volumes.map((v) => [v.slug, v.exists, v.usedBytes, v.overLimit])).toEqual([
      ['big', true, 4096, true],
      ['foreign', true, undefined, false],
      ['gone', false, undefined, false],
      ['small', true, 10, false],
    ]);
    expect(volumes.find((v) => v.slug === 'foreign')?.createdAt).toBe('2025-01-01T00:00:00.000Z');
    expect(engine.callLog().filter((c) => c.startsWith('volumeDiskUsage'))).toEqual(['volumeDiskUsage mino-vol-']);
  });

  it('runningUsers reads the io.mino.volumes label of running containers only', () => {
    const cs = [
      fakeContainer('mino-a', 'running', { 'io.mino.session': 'a', 'io.mino.volumes': 'x,data' }),
      fakeContainer('mino-b', 'exited', { 'io.mino.session': 'b', 'io.mino.volumes': 'data' }),
      fakeContainer('mino-c', 'running', { 'io.mino.session': 'c', 'io.mino.volumes': 'data2' }),
      fakeContainer('other', 'running', {}),
    ];
    expect(runningUsers(cs, 'data')).toEqual([{ session: 'a', container: 'mino-a', state: 'running' }]);
  });

  it('rm refuses while a running session mounts the volume, -f removes it', async () => {
    await createNamedVolume(ctx, 'data', undefined);
    engine.containers = [
      fakeContainer(
        'mino-agent',
        'running',
        { 'io.mino.session': 'agent', 'io.mino.volumes': 'data' },
        { volumes: ['mino-vol-data'] },
      ),
    ];
    const err = await rejection(removeNamedVolume(ctx, 'data', false));
    expect(err.message).toBe("Volume 'data' is mounted by running session agent");
    expect(err.hint).toContain('mino stop agent');
    expect(err.hint).toContain("'mino volume rm data -f'");
    expect(engine.volumes.has('mino-vol-data')).toBe(true);
    expect(await removeNamedVolume(ctx, 'data', true)).toEqual({
      removedUsers: [{ session: 'agent', container: 'mino-agent', state: 'running' }],
    });
    expect(engine.volumes.has('mino-vol-data')).toBe(false);
    expect(new VolumeStore(state).get('data')).toBeUndefined();
  });

  it('rm without -f reports containers podman still sees using the volume', async () => {
    await createNamedVolume(ctx, 'data', undefined);
    engine.containers = [fakeContainer('foreign', 'exited', {}, { volumes: ['mino-vol-data'] })];
    const err = await rejection(removeNamedVolume(ctx, 'data', false));
    expect(err.message).toBe(`Volume 'data' is still used by container(s) ${engine.containers[0]?.id.slice(0, 12)}`);
    expect(new VolumeStore(state).get('data')).toBeDefined();
  });

  it('rm and info of an unknown volume list the existing ones', async () => {
    await createNamedVolume(ctx, 'one', undefined);
    const err = await rejection(removeNamedVolume(ctx, 'two', false));
    expect(err.message).toBe("Volume 'two' does not exist");
    expect(err.hint).toBe('Existing volumes: one. Create it with: mino volume create two');
    await expect(namedVolumeInfo(ctx, 'two')).rejects.toThrow("Volume 'two' does not exist");
  });

  it('info shows usage and the running sessions mounting it', async () => {
    await createNamedVolume(ctx, 'data', '1MB');
    engine.usage.set('mino-vol-data', 2 * 1024 ** 2);
    engine.containers = [
      fakeContainer('mino-agent', 'running', { 'io.mino.session': 'agent', 'io.mino.volumes': 'data' }),
    ];
    const v = await namedVolumeInfo(ctx, 'data');
    expect(v).toMatchObject({
      slug: 'data',
      usedBytes: 2 * 1024 ** 2,
      overLimit: true,
      mountpoint: '/fake/volumes/mino-vol-data/_data',
    });
    expect(v.users.map((u) => u.session)).toEqual(['agent']);
  });

  describe('at mino run (prepareVolumes)', () => {
    it('asks podman nothing without named or home volumes', async () => {
      await prepareVolumes(ctx, buildRunPlan(typicalInput({ cliVolumes: ['/h:/h'] })), (m) => said.push(m));
      expect(engine.calls).toEqual([]);
    });

    it('rejects an unknown slug, naming the existing ones, before anything else', async () => {
      await createNamedVolume(ctx, 'have', undefined);
      engine.clearCalls();
      const plan = buildRunPlan(typicalInput({ cliVolumes: ['have:/a', 'nope:/b'], home: true }));
      const err = await rejection(prepareVolumes(ctx, plan, (m) => said.push(m)));
      expect(err.message).toBe("Volume 'nope' does not exist");
      expect(err.hint).toContain('Existing volumes: have.');
      expect(engine.callLog()).toEqual(['volumeList mino-vol-']);
      expect(new VolumeStore(state).get('have')?.mount_count).toBe(0);
    });

    it('records the use and warns when a volume is over its limit', async () => {
      await createNamedVolume(ctx, 'data', '1KB');
      await createNamedVolume(ctx, 'free', undefined);
      engine.usage.set('mino-vol-data', 5000);
      engine.clearCalls();
      await prepareVolumes(
        ctx,
        buildRunPlan(typicalInput({ cliVolumes: ['data:/d', 'free:/f'] })),
        (m) => said.push(m),
        new Date('2026-02-02T00:00:00Z'),
      );
      expect(new VolumeStore(state).get('data')).toMatchObject({
        mount_count: 1,
        last_used: '2026-02-02T00:00:00.000Z',
      });
      expect(new VolumeStore(state).get('free')?.mount_count).toBe(1);
      expect(said).toEqual([
        "Warning: volume 'data' uses 4.9KB, over its 1.0KB limit (podman does not enforce it; free space in the volume or remove it with 'mino volume rm data')",
      ]);
      expect(engine.callLog()).toEqual(['volumeList mino-vol-', 'volumeDiskUsage mino-vol-data']);
    });

    it('creates the home volume with its labels', async () => {
      const plan = buildRunPlan(typicalInput({ home: true }));
      await prepareVolumes(ctx, plan, (m) => said.push(m), new Date('2026-02-02T00:00:00Z'));
      expect(engine.callNames()).toEqual(['volumeCreate']);
      expect(engine.callsTo('volumeCreate').map(([name]) => name)).toEqual(['mino-home-1b346e1cbf27']);
      expect(engine.volumes.get('mino-home-1b346e1cbf27')?.labels).toEqual({
        'io.mino.home': 'true',
        'io.mino.home.project': '/home/alice/src/webapp',
        'io.mino.home.created_at': '2026-02-02T00:00:00.000Z',
      });
    });
  });
});
