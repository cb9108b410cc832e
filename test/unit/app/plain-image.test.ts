import { describe, expect, it } from 'vitest';
import { plainImageIdentity } from '../../../src/app/plain-image.js';
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

  it('refuses a missing image with one error before anything is created', async () => {
    const runtime = new FakeRuntime();
    const err = await plainImageIdentity(runtime, 'localhost/nope:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MinoError);
    expect((err as MinoError).message).toBe('Image localhost/nope:1 is not available locally');
    expect((err as MinoError).hint).toBe('Build or pull it first (podman pull localhost/nope:1), or pass another --image');
  });
});
