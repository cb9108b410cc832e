import { describe, expect, it } from 'vitest';
import { selectForBudget } from '../../../src/cache/cache-budget.js';
import type { CacheItem, ImageItem, InUse } from '../../../src/cache/cache-inventory.js';
import { targetName } from '../../../src/cache/cache-selection.js';

function cache(name: string, size: number, lastUsed: string, state: CacheItem['state'] = 'complete'): CacheItem {
  return {
    kind: 'cache',
    name,
    ecosystem: 'npm',
    hash: 'a1b2c3d4e5f6',
    state,
    sizeBytes: size,
    createdAt: '2026-01-01T00:00:00Z',
    lastUsed,
    superseded: false,
  };
}
function composed(ref: string, own: number, stale: boolean, containers = 0): ImageItem {
  return { kind: 'composed', ref, id: ref, sizeBytes: own + 1000, ownBytes: own, stale, containers };
}
const idle: InUse = { volumes: new Map(), images: new Map() };

describe('disk budget eviction', () => {
  const caches = [
    cache('mino-cache-npm-000000000001', 300, '2026-05-01T00:00:00Z'),
    cache('mino-cache-npm-000000000002', 300, '2026-02-01T00:00:00Z'),
    cache('mino-cache-npm-000000000003', 300, '2026-01-01T00:00:00Z', 'building'),
  ];
  const images = [
    composed('localhost/mino-composed-aaaaaaaaaaaa:latest', 200, false),
    composed('localhost/mino-composed-bbbbbbbbbbbb:latest', 100, true),
  ];

  it('does nothing under the limit or without one', () => {
    expect(selectForBudget({ caches, images, inUse: idle }, 10_000)).toEqual([]);
    expect(selectForBudget({ caches, images, inUse: idle }, 0)).toEqual([]);
  });

  it('evicts stale composed images, then least recently used complete caches, then other composed images, until under the limit', () => {
    // total 1200
    expect(selectForBudget({ caches, images, inUse: idle }, 1000).map((d) => targetName(d.target))).toEqual([
      'localhost/mino-composed-bbbbbbbbbbbb:latest',
      'mino-cache-npm-000000000002',
    ]);
    expect(selectForBudget({ caches, images, inUse: idle }, 350).map((d) => targetName(d.target))).toEqual([
      'localhost/mino-composed-bbbbbbbbbbbb:latest',
      'mino-cache-npm-000000000002',
      'mino-cache-npm-000000000001',
      'localhost/mino-composed-aaaaaaaaaaaa:latest',
    ]);
  });

  it('never evicts a building cache or anything in use', () => {
    const inUse: InUse = {
      volumes: new Map([['mino-cache-npm-000000000002', 'running session a']]),
      images: new Map(),
    };
    const busy = [composed('localhost/mino-composed-bbbbbbbbbbbb:latest', 100, true, 1), images[0]!];
    const picked = selectForBudget({ caches, images: busy, inUse }, 1).map((d) => targetName(d.target));
    expect(picked).toEqual(['mino-cache-npm-000000000001', 'localhost/mino-composed-aaaaaaaaaaaa:latest']);
  });
});
