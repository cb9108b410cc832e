import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { budgetedBytes, buildInventory, inUseBy, type InventoryInput } from '../../../src/cache/cache-inventory.js';
import { finalized, newSidecar } from '../../../src/cache/cache-sidecar.js';
import { selectForClear, targetName } from '../../../src/cache/cache-selection.js';
import { parseImageList } from '../../../src/runtime/podman/podman-json.js';
import type { ContainerSummary, VolumeInfo } from '../../../src/runtime/container-runtime.js';

const T = new Date('2026-03-01T00:00:00Z');
const images = parseImageList(readFileSync(new URL('../../fixtures/podman/images-mino.json', import.meta.url), 'utf8'));
const LATEST_ID = images.find((i) => i.names.includes('localhost/mino-base:latest'))!.id;

function vol(name: string, labels: Record<string, string> = {}): VolumeInfo {
  return { name, labels, mountpoint: `/v/${name}`, createdAt: '2026-01-01T00:00:00Z' };
}

function container(
  name: string,
  state: ContainerSummary['state'],
  labels: Record<string, string>,
  image = 'localhost/x:1',
): ContainerSummary {
  return { id: `${name}-id`, name, image, state, labels, exitCode: undefined, createdAt: 0 };
}

function input(over: Partial<InventoryInput> = {}): InventoryInput {
  return {
    volumes: [
      vol('mino-cache-npm-a1b2c3d4e5f6'),
      vol('mino-cache-cargo-0123456789ab', { 'io.mino.cache.created_at': '2025-12-01T00:00:00Z' }),
      vol('mino-cache-npm-a1b2c3d4e5f6-0a0b0c'),
      vol('mino-home-aaaaaaaaaaaa', { 'io.mino.home.project': '/src/alive' }),
      vol('mino-home-bbbbbbbbbbbb'),
      vol('mino-home-cccccccccccc'),
      vol('mino-vol-data'),
    ],
    usage: new Map([
      ['mino-cache-npm-a1b2c3d4e5f6', 1000],
      ['mino-cache-cargo-0123456789ab', 500],
      ['mino-home-aaaaaaaaaaaa', 7],
    ]),
    sidecars: [
      finalized(newSidecar('mino-cache-npm-a1b2c3d4e5f6-0a0b0c', T), 'mino-cache-npm-a1b2c3d4e5f6-0a0b0c', 0, T),
      newSidecar('mino-cache-go-ffffffffffff', T),
    ],
    homeMarkers: new Map([['mino-home-bbbbbbbbbbbb', '/src/gone']]),
    images,
    baseLatestId: LATEST_ID,
    containers: [],
    projectExists: (p) => p === '/src/alive',
    ...over,
  };
}

describe('cache inventory', () => {
  it('lists caches with their sidecar state, marking ones a --cache-fresh run replaced', () => {
    const inv = buildInventory(input());
    expect(inv.caches.map((c) => [c.name, c.state, c.superseded, c.sizeBytes ?? null])).toEqual([
      ['mino-cache-cargo-0123456789ab', 'unknown', false, 500],
      ['mino-cache-npm-a1b2c3d4e5f6', 'unknown', true, 1000],
      ['mino-cache-npm-a1b2c3d4e5f6-0a0b0c', 'complete', false, null],
    ]);
    expect(inv.caches[0]?.createdAt).toBe('2025-12-01T00:00:00Z');
    expect(inv.orphanSidecars.map((s) => s.volume_name)).toEqual(['mino-cache-go-ffffffffffff']);
  });

  it('finds the project of a home volume by label, else by marker, and whether it still exists', () => {
    const homes = buildInventory(input()).homes;
    expect(homes.map((h) => [h.name, h.project ?? null, h.projectExists ?? null])).toEqual([
      ['mino-home-aaaaaaaaaaaa', '/src/alive', true],
      ['mino-home-bbbbbbbbbbbb', '/src/gone', false],
      ['mino-home-cccccccccccc', null, null],
    ]);
  });

  it('lists composed images and base tags, flagging those of an older base (podman lists an image once per name)', () => {
    const inv = buildInventory(input());
    const refs = inv.images.map((i) => `${i.kind} ${i.ref}${i.stale ? ' stale' : ''}`);
    expect(refs).toEqual([
      'composed localhost/mino-composed-1310a98911de:latest stale',
      'composed localhost/mino-composed-1cc8716bddaa:latest',
      'base localhost/mino-base:556035d88041 stale',
      'base localhost/mino-base:80f734ff4218 stale',
      'base localhost/mino-base:9e097138ece9',
      'base localhost/mino-base:latest',
    ]);
    const fresh = inv.images.find((i) => i.ref.includes('1cc8716bddaa'))!;
    expect(fresh.ownBytes).toBeLessThan(fresh.sizeBytes);
    expect(fresh.ownBytes).toBeGreaterThan(0);
  });

  it("lists a remote engine's egress proxy images (by tag and label), after the others, never budgeted; clear --images removes them", () => {
    const egress = (id: string, name: string, labels: Record<string, string>, containers = 0) => ({
      id,
      names: [name],
      sizeBytes: 100_000_000,
      labels,
      containers,
      created: 0,
    });
    const inv = buildInventory(
      input({
        images: [
          ...images,
          egress('e1', 'localhost/mino-egress:0123456789abcdef', { 'io.mino.egress-image': '1' }),
          egress('e2', 'localhost/mino-egress:fedcba9876543210', { 'io.mino.egress-image': '1' }, 1),
          // Not labelled by mino, or not its tag form: not mino's.
          egress('e3', 'localhost/mino-egress:aaaaaaaaaaaaaaaa', {}),
          egress('e4', 'localhost/mino-egress:latest', { 'io.mino.egress-image': '1' }),
        ],
      }),
    );
    expect(inv.images.filter((i) => i.kind === 'egress').map((i) => [i.ref, i.ownBytes, i.stale])).toEqual([
      ['localhost/mino-egress:0123456789abcdef', 100_000_000, false],
      ['localhost/mino-egress:fedcba9876543210', 100_000_000, false],
    ]);
    expect(inv.images.at(-1)?.kind).toBe('egress');
    const composed = inv.images.filter((i) => i.kind === 'composed').reduce((n, i) => n + i.ownBytes, 0);
    expect(budgetedBytes(inv)).toBe(1500 + composed);
    const clear = selectForClear(inv, { volumes: false, images: true, home: false });
    expect(clear.remove.filter((d) => d.target.kind === 'egress').map((d) => targetName(d.target))).toEqual([
      'localhost/mino-egress:0123456789abcdef',
    ]);
    // The one a container (a running proxy) uses stays.
    expect(clear.keep.map((d) => [targetName(d.target), d.reason])).toContainEqual([
      'localhost/mino-egress:fedcba9876543210',
      'in use by 1 container(s)',
    ]);
    expect(
      selectForClear(inv, { volumes: true, images: false, home: true }).remove.some((d) => d.target.kind === 'egress'),
    ).toBe(false);
  });

  it('flags nothing as stale without a mino-base:latest to compare with', () => {
    expect(buildInventory(input({ baseLatestId: undefined })).images.some((i) => i.stale)).toBe(false);
  });

  it('counts caches and composed images (own layers, once per image) against the budget', () => {
    const inv = buildInventory(input());
    const composed = inv.images.filter((i) => i.kind === 'composed').reduce((n, i) => n + i.ownBytes, 0);
    expect(budgetedBytes(inv)).toBe(1500 + composed);
  });

  it('knows what containers use, from their labels and image, stopped ones included', () => {
    const inUse = inUseBy(
      [
        container(
          'mino-a',
          'running',
          {
            'io.mino.session': 'a',
            'io.mino.caches': 'mino-cache-npm-a1b2c3d4e5f6,mino-cache-cargo-0123456789ab',
            'io.mino.home-volume': 'mino-home-aaaaaaaaaaaa',
          },
          'localhost/mino-composed-1cc8716bddaa:latest',
        ),
        container('mino-b', 'exited', { 'io.mino.session': 'b', 'io.mino.caches': 'mino-cache-go-ffffffffffff' }),
        container('foreign', 'running', {}, 'mino-base:latest'),
      ],
      [{ session: 'c', volumes: ['mino-home-bbbbbbbbbbbb'] }],
    );
    expect(Object.fromEntries(inUse.volumes)).toEqual({
      'mino-cache-npm-a1b2c3d4e5f6': 'running session a',
      'mino-cache-cargo-0123456789ab': 'running session a',
      'mino-home-aaaaaaaaaaaa': 'running session a',
      'mino-cache-go-ffffffffffff': 'stopped container mino-b',
      'mino-home-bbbbbbbbbbbb': 'session c (starting)',
    });
    expect(inUse.images.get('localhost/mino-composed-1cc8716bddaa:latest')).toBe('running session a');
    expect(inUse.images.get('localhost/mino-base:latest')).toBe('running container foreign');
  });
});
