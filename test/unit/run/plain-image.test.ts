import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { plainImageIdentity } from '../../../src/run/plain-image.js';
import { MinoError } from '../../../src/common/errors.js';
import { parseImageUser } from '../../../src/launch/userns.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

describe('parseImageUser', () => {
  it('reads uid, uid:gid, root and the empty user (root)', () => {
    expect(parseImageUser('')).toEqual({ uid: 0 });
    expect(parseImageUser('root')).toEqual({ uid: 0 });
    expect(parseImageUser('1000')).toEqual({ uid: 1000 });
    expect(parseImageUser('1000:1001')).toEqual({ uid: 1000, gid: 1001 });
    expect(parseImageUser('0:root')).toEqual({ uid: 0, gid: 0 });
  });

  it('leaves names it cannot resolve and out-of-range ids unknown', () => {
    expect(parseImageUser('node')).toBeUndefined();
    expect(parseImageUser('1000:staff')).toBeUndefined();
    expect(parseImageUser('99999999999')).toBeUndefined();
    expect(parseImageUser('-1')).toBeUndefined();
  });
});

describe('plainImageIdentity', () => {
  it('knows mino images without asking podman', async () => {
    const runtime = new FakeRuntime();
    expect(await plainImageIdentity(runtime, 'localhost/mino-base:latest')).toEqual({ uid: 1000, gid: 1000 });
    expect(await plainImageIdentity(runtime, `mino-composed-${'a'.repeat(16)}`)).toEqual({ uid: 1000, gid: 1000 });
    expect(runtime.calls).toEqual([]);
  });

  it('inspects another image once and maps its user', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage('localhost/node-app:1', { user: '1000:1000' });
    expect(await plainImageIdentity(runtime, 'localhost/node-app:1')).toEqual({ uid: 1000, gid: 1000 });
    expect(runtime.callNames()).toEqual(['imageInspect']);
  });

  it('remembers the user by image ID: a cold run of the same image asks podman nothing, a rebuilt one is inspected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-image-user-'));
    try {
      const index = join(dir, 'images.json');
      const runtime = new FakeRuntime();
      runtime.imageStoreIndex = index;
      const first = runtime.addImage('localhost/node-app:1', { user: '1000:1000' });
      writeFileSync(index, JSON.stringify([{ id: first.id, names: ['localhost/node-app:1'] }]));
      expect(await plainImageIdentity(runtime, 'localhost/node-app:1', undefined, dir)).toEqual({
        uid: 1000,
        gid: 1000,
      });
      expect(runtime.callNames()).toEqual(['imageInspect', 'imageStoreIndexPath']);
      expect(statSync(join(dir, 'image-users.json')).mode & 0o777).toBe(0o600);
      runtime.clearCalls();
      expect(await plainImageIdentity(runtime, 'localhost/node-app:1', undefined, dir)).toEqual({
        uid: 1000,
        gid: 1000,
      });
      expect(runtime.calls).toEqual([]);
      // Rebuilt under the same name, with another user: the index names another ID, so podman is asked.
      runtime.images = [];
      const second = runtime.addImage('localhost/node-app:1', { user: '0', id: 'c'.repeat(64) });
      expect(second.id).not.toBe(first.id);
      writeFileSync(index, JSON.stringify([{ id: second.id, names: ['localhost/node-app:1'] }]));
      expect(await plainImageIdentity(runtime, 'localhost/node-app:1', undefined, dir)).toEqual({ uid: 0 });
      // The index was learnt: no second look for it.
      expect(runtime.callNames()).toEqual(['imageInspect']);
      runtime.clearCalls();
      expect(await plainImageIdentity(runtime, 'localhost/node-app:1', undefined, dir)).toEqual({ uid: 0 });
      expect(runtime.calls).toEqual([]);
      // Removed: the index no longer names it, and the run stops with the usual error.
      runtime.images = [];
      writeFileSync(index, '[]');
      await expect(plainImageIdentity(runtime, 'localhost/node-app:1', undefined, dir)).rejects.toThrow(
        'Image localhost/node-app:1 is not available locally',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on a remote engine: remembers its answer per engine for a few minutes (a cold run asks it nothing)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-engine-image-'));
    try {
      vi.useFakeTimers({ toFake: ['Date'] });
      const runtime = new FakeRuntime();
      runtime.addImage('localhost/node-app:1', { user: '1000:1000' });
      const gpu = { stateDir: dir, engine: 'gpu' };
      const ask = () => plainImageIdentity(runtime, 'localhost/node-app:1', undefined, undefined, gpu);
      expect(await ask()).toEqual({ uid: 1000, gid: 1000 });
      expect(runtime.callNames()).toEqual(['imageInspect']);
      expect(statSync(join(dir, 'engine-images.json')).mode & 0o777).toBe(0o600);
      runtime.clearCalls();
      expect(await ask()).toEqual({ uid: 1000, gid: 1000 });
      expect(runtime.calls).toEqual([]);
      // Another engine is asked.
      await plainImageIdentity(runtime, 'localhost/node-app:1', undefined, undefined, { ...gpu, engine: 'other' });
      expect(runtime.callNames()).toEqual(['imageInspect']);
      // Minutes later the engine is asked again: removed there meanwhile, the usual error.
      runtime.clearCalls();
      runtime.images = [];
      vi.setSystemTime(Date.now() + 301_000);
      await expect(ask()).rejects.toThrow('Image localhost/node-app:1 is not available locally');
      expect(runtime.callNames()).toEqual(['imageInspect']);
    } finally {
      vi.useRealTimers();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing image with one error before anything is created', async () => {
    const runtime = new FakeRuntime();
    const err = await plainImageIdentity(runtime, 'localhost/nope:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe('Image localhost/nope:1 is not available locally');
    expect((err as MinoError).hint).toBe(
      'Build or pull it first (podman pull localhost/nope:1), or pass another --image',
    );
  });

  describe("with mino's own store (a vfs user)", () => {
    const OWN = {
      graphRoot: '/home/ann/.local/share/mino/containers/storage',
      runRoot: '/run/user/1000/mino/storage',
      tmpDir: '/run/user/1000/mino/libpod',
      driver: 'overlay',
    };

    function stores(): { user: FakeRuntime; own: FakeRuntime; said: string[] } {
      const user = new FakeRuntime();
      const own = user.withStore(OWN) as FakeRuntime;
      return { user, own, said: [] };
    }

    it("copies an image of the user's store on first use, with progress, and finds the copy later", async () => {
      const { user, own, said } = stores();
      user.addImage('localhost/mine:1', { user: '1000', sizeBytes: 5_000_000 });
      const userStore = { runtime: user, say: (m: string) => said.push(m) };
      expect(await plainImageIdentity(own, 'localhost/mine:1', userStore)).toEqual({ uid: 1000 });
      expect(own.findImage('localhost/mine:1')).toBeDefined();
      expect(said).toEqual([
        `Copying localhost/mine:1 (5 MB) from your podman store into mino's own store ${OWN.graphRoot} (once; later runs use the copy)...`,
        expect.stringMatching(/^Copied localhost\/mine:1 in \d+\.\d s$/),
      ]);
      const copies = own.callsTo('copyImageFromDefaultStore').length;
      await plainImageIdentity(own, 'localhost/mine:1', userStore);
      expect(own.callsTo('copyImageFromDefaultStore').length).toBe(copies);
    });

    it("copies again when the user's image differs from mino's copy (rebuilt), and removes the old copy", async () => {
      const { user, own, said } = stores();
      user.addImage('localhost/mine:1', { id: 'a'.repeat(64) });
      const userStore = { runtime: user, say: (m: string) => said.push(m) };
      await plainImageIdentity(own, 'localhost/mine:1', userStore);
      user.images = [];
      user.addImage('localhost/mine:1', { id: 'b'.repeat(64), sizeBytes: 3_000_000 });
      await plainImageIdentity(own, 'localhost/mine:1', userStore);
      expect(own.callsTo('copyImageFromDefaultStore')).toHaveLength(2);
      expect(said[2]).toBe(
        `Your podman store has another localhost/mine:1 than mino's copy: copying it (3 MB) into mino's own store ${OWN.graphRoot}...`,
      );
      expect(own.callsTo('imageRemove')).toEqual([['a'.repeat(64)]]);
    });

    it('a dry run says it would copy, and copies nothing', async () => {
      const { user, own, said } = stores();
      user.addImage('localhost/mine:1');
      expect(
        await plainImageIdentity(own, 'localhost/mine:1', { runtime: user, say: (m) => said.push(m), dryRun: true }),
      ).toEqual({ uid: 0 });
      expect(own.callsTo('copyImageFromDefaultStore')).toEqual([]);
      expect(said).toEqual([
        `Note: localhost/mine:1 is in your podman store; a real run copies it into mino's own store ${OWN.graphRoot} first`,
      ]);
    });

    it('an image in neither store: the hint says where podman pull puts it and that mino copies it', async () => {
      const { user, own } = stores();
      const err = await plainImageIdentity(own, 'localhost/nope:1', { runtime: user, say: () => undefined }).catch(
        (e: unknown) => e,
      );
      expect((err as MinoError).message).toBe(
        "Image localhost/nope:1 is not available locally (neither in mino's own store nor in your podman store)",
      );
      expect((err as MinoError).hint).toBe(
        `Build or pull it into your podman store first (podman pull localhost/nope:1); mino copies it into its own store (${OWN.graphRoot}) on first use. Or pass another --image`,
      );
    });
  });
});
