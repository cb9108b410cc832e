import { describe, expect, it } from 'vitest';
import { decideCacheMounts } from '../../../src/cache/cache-mounts.js';
import { finalized, newSidecar, type CacheSidecar } from '../../../src/cache/cache-sidecar.js';
import type { DetectedLockfile } from '../../../src/cache/lockfiles.js';

const NPM: DetectedLockfile = { ecosystem: 'npm', file: 'package-lock.json', hash: 'a1b2c3d4e5f6' };
const CARGO: DetectedLockfile = { ecosystem: 'cargo', file: 'Cargo.lock', hash: '0123456789ab' };
const T = new Date('2026-03-01T00:00:00Z');
const on = { enabled: true, fresh: false, readOnly: false };
const none = (): boolean => false;
const all = (): boolean => true;

function sidecars(...list: CacheSidecar[]): (name: string) => CacheSidecar | undefined {
  return (name) => list.find((s) => s.volume_name.startsWith(name));
}

describe('cache mount decisions', () => {
  it('creates a missing cache read-write and completes it on success', () => {
    expect(decideCacheMounts([NPM], sidecars(), none, on, () => 'ffffff')).toEqual([
      {
        ecosystem: 'npm',
        hash: 'a1b2c3d4e5f6',
        lockfile: 'package-lock.json',
        volume: 'mino-cache-npm-a1b2c3d4e5f6',
        target: '/cache/npm',
        readOnly: false,
        state: 'miss',
        finalize: true,
        create: true,
      },
    ]);
  });

  it('does not create a volume podman already has, and treats a sidecar without its volume as a miss', () => {
    const complete = finalized(newSidecar('mino-cache-npm-a1b2c3d4e5f6', T), 'mino-cache-npm-a1b2c3d4e5f6', 0, T);
    expect(decideCacheMounts([NPM], sidecars(), all, on, () => 'ffffff')[0]).toMatchObject({
      state: 'miss',
      create: false,
    });
    expect(decideCacheMounts([NPM], sidecars(complete), none, on, () => 'ffffff')[0]).toMatchObject({
      state: 'miss',
      create: true,
      readOnly: false,
    });
  });

  it('mounts a building cache read-write, a complete one read-write (read-only with --cache-ro)', () => {
    const building = newSidecar('mino-cache-npm-a1b2c3d4e5f6', T);
    const complete = finalized(newSidecar('mino-cache-cargo-0123456789ab', T), 'mino-cache-cargo-0123456789ab', 0, T);
    const [npm, cargo] = decideCacheMounts([NPM, CARGO], sidecars(building, complete), all, on, () => 'ffffff');
    expect(npm).toMatchObject({ state: 'building', readOnly: false, finalize: true });
    expect(cargo).toMatchObject({ state: 'complete', readOnly: false, finalize: false, target: '/cache/cargo' });
    expect(
      decideCacheMounts([CARGO], sidecars(complete), all, { ...on, readOnly: true }, () => 'ffffff')[0],
    ).toMatchObject({ readOnly: true, finalize: false });
  });

  it('gives two lockfiles two mount points', () => {
    const targets = decideCacheMounts([NPM, CARGO], sidecars(), none, on, () => 'ffffff').map((m) => m.target);
    expect(new Set(targets).size).toBe(2);
  });

  it('starts a fresh volume with --cache-fresh and names the one it replaces', () => {
    const old = finalized(newSidecar('mino-cache-npm-a1b2c3d4e5f6', T), 'mino-cache-npm-a1b2c3d4e5f6', 0, T);
    expect(decideCacheMounts([NPM], sidecars(old), all, { ...on, fresh: true }, () => '0a0b0c')[0]).toMatchObject({
      volume: 'mino-cache-npm-a1b2c3d4e5f6-0a0b0c',
      state: 'miss',
      readOnly: false,
      finalize: true,
      replaces: 'mino-cache-npm-a1b2c3d4e5f6',
    });
  });

  it('mounts nothing with --no-cache', () => {
    expect(decideCacheMounts([NPM, CARGO], sidecars(), none, { ...on, enabled: false }, () => 'ffffff')).toEqual([]);
  });
});
