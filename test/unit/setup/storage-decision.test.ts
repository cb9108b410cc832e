import { describe, expect, it } from 'vitest';
import {
  decideStorage,
  isRebuildableImage,
  normalizeImageRef,
  splitInventory,
  type StorageFacts,
  type StoreContents,
} from '../../../src/setup/storage-decision.js';

const BASE_FROM = 'docker.io/library/debian:bookworm-slim';

function inventory(partial: Partial<StoreContents> = {}): StoreContents {
  return { images: [], containers: [], volumes: [], secrets: [], networks: [], ...partial };
}

function facts(partial: Partial<StorageFacts>): StorageFacts {
  return {
    rootless: true,
    fresh: false,
    driver: 'vfs',
    explicit: undefined,
    overlay: 'unknown',
    inventory: undefined,
    ...partial,
  };
}

describe('normalizeImageRef / isRebuildableImage', () => {
  it('names images the way podman lists pulled ones', () => {
    expect(normalizeImageRef('debian:bookworm-slim')).toBe(BASE_FROM);
    expect(normalizeImageRef('library/debian:bookworm-slim')).toBe(BASE_FROM);
    expect(normalizeImageRef('debian')).toBe('docker.io/library/debian:latest');
    expect(normalizeImageRef('quay.io/x/y')).toBe('quay.io/x/y:latest');
    expect(normalizeImageRef('localhost:5000/x:1')).toBe('localhost:5000/x:1');
  });

  it("accepts mino's own images and the configured parent, nothing else", () => {
    for (const name of [
      'localhost/mino-probe:1',
      'localhost/mino-base:latest',
      'localhost/mino-base:0123456789ab',
      'localhost/mino-debian:bookworm-0123456789ab',
      'localhost/mino-composed-abc123:latest',
      BASE_FROM,
    ])
      expect(isRebuildableImage(name, BASE_FROM), name).toBe(true);
    for (const name of [
      'localhost/mine:1',
      'localhost/mino-test-busybox:latest',
      'localhost/mino-base-custom:1',
      'docker.io/library/debian:bookworm',
      'quay.io/localhost/mino-base:latest',
    ])
      expect(isRebuildableImage(name, BASE_FROM), name).toBe(false);
    expect(isRebuildableImage('localhost/debian:bookworm-slim', 'localhost/debian:bookworm-slim')).toBe(true);
    expect(isRebuildableImage(BASE_FROM, undefined)).toBe(false);
  });
});

describe('splitInventory', () => {
  it('counts an image with two tags once, and as foreign when one tag is foreign', () => {
    const id = 'a'.repeat(64);
    const names = ['localhost/mino-probe:1', 'localhost/mine:1'];
    const split = splitInventory(
      inventory({
        images: [
          { id, names, labels: {} },
          { id, names, labels: {} },
        ],
      }),
      BASE_FROM,
    );
    expect(split.rebuildable).toEqual(['image localhost/mino-probe:1']);
    expect(split.foreign).toEqual(['image localhost/mine:1']);
  });

  it("treats untagged images as mino's only when they carry a mino build label", () => {
    const split = splitInventory(
      inventory({
        images: [
          { id: '1'.repeat(64), names: [], labels: { 'io.mino.image': 'base' } },
          { id: '2'.repeat(64), names: [], labels: {} },
          { id: '3'.repeat(64), names: [], labels: { 'io.mino.probe': 'true', 'io.mino.test': '1' } },
        ],
      }),
      BASE_FROM,
    );
    expect(split.rebuildable).toEqual(['image 111111111111 (untagged)']);
    expect(split.foreign).toEqual(['image 222222222222 (untagged)', 'image 333333333333 (untagged)']);
  });

  it("keeps every container, agent home, named volume and custom network as the user's (not podman's default network)", () => {
    const split = splitInventory(
      inventory({
        containers: ['mino-session-1'],
        volumes: [
          { name: 'mino-cache-npm-0123456789ab', labels: { 'io.mino.cache': 'npm' } },
          { name: 'mino-cache-npm-fedcba987654', labels: {} },
          { name: 'mino-home-0123', labels: { 'io.mino.home': '1' } },
          { name: 'mino-vol-data', labels: { 'io.mino.volume': 'data' } },
        ],
        secrets: ['mino-abc', 'mino-test-x', 'github-token'],
        networks: ['podman', 'mynet'],
      }),
      BASE_FROM,
    );
    expect(split.rebuildable).toEqual(['volume mino-cache-npm-0123456789ab', 'secret mino-abc']);
    expect(split.foreign).toEqual([
      'container mino-session-1',
      'volume mino-cache-npm-fedcba987654',
      'volume mino-home-0123',
      'volume mino-vol-data',
      'secret mino-test-x',
      'secret github-token',
      'network mynet',
    ]);
  });
});

describe('decideStorage', () => {
  it('leaves rootful engines and copy-on-write drivers alone', () => {
    expect(decideStorage(facts({ rootless: false }))).toEqual({ kind: 'ok' });
    expect(decideStorage(facts({ driver: 'overlay' }))).toEqual({ kind: 'ok' });
    expect(decideStorage(facts({ driver: 'btrfs' }))).toEqual({ kind: 'ok' });
  });

  it('reports a driver the user chose as vfs, and never probes or changes it', () => {
    const explicit = { driver: 'vfs', source: '/home/u/.config/containers/storage.conf' };
    expect(decideStorage(facts({ explicit }))).toEqual({ kind: 'explicit', ...explicit });
    expect(decideStorage(facts({ fresh: true, driver: undefined, explicit }))).toEqual({
      kind: 'explicit',
      ...explicit,
    });
  });

  it('accepts another explicit driver for a new store, but still repairs a vfs store (the database wins)', () => {
    const explicit = { driver: 'overlay', source: '/x/storage.conf' };
    expect(decideStorage(facts({ fresh: true, driver: undefined, explicit }))).toEqual({ kind: 'ok' });
    expect(decideStorage(facts({ explicit }))).toEqual({ kind: 'probe' });
  });

  it('configures a fresh store when overlay works, and says vfs is the only option when it does not', () => {
    const fresh = { fresh: true, driver: undefined };
    expect(decideStorage(facts(fresh))).toEqual({ kind: 'probe' });
    expect(decideStorage(facts({ ...fresh, overlay: 'works' }))).toEqual({ kind: 'configure' });
    expect(decideStorage(facts({ ...fresh, overlay: 'fails' }))).toEqual({ kind: 'vfs-only' });
  });

  it('on vfs: probes, then lists the store, then switches only when nothing of the user would be lost', () => {
    expect(decideStorage(facts({}))).toEqual({ kind: 'probe' });
    expect(decideStorage(facts({ overlay: 'fails' }))).toEqual({ kind: 'vfs-only' });
    expect(decideStorage(facts({ overlay: 'works' }))).toEqual({ kind: 'inventory' });
    expect(decideStorage(facts({ overlay: 'works', inventory: { rebuildable: [], foreign: [] } }))).toEqual({
      kind: 'switch',
      rebuildable: [],
    });
    expect(
      decideStorage(
        facts({ overlay: 'works', inventory: { rebuildable: ['image localhost/mino-probe:1'], foreign: [] } }),
      ),
    ).toEqual({ kind: 'switch', rebuildable: ['image localhost/mino-probe:1'] });
    expect(
      decideStorage(
        facts({
          overlay: 'works',
          inventory: { rebuildable: ['image localhost/mino-probe:1'], foreign: ['image localhost/mine:1'] },
        }),
      ),
    ).toEqual({ kind: 'keep', foreign: ['image localhost/mine:1'] });
  });
});
