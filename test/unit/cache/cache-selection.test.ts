import { describe, expect, it } from 'vitest';
import {
  buildInventory,
  type CacheItem,
  type HomeItem,
  type ImageItem,
  type InUse,
} from '../../../src/cache/cache-inventory.js';
import {
  lastActivity,
  removalOrder,
  selectForClear,
  selectForGc,
  targetName,
} from '../../../src/cache/cache-selection.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const daysAgo = (n: number): string => new Date(NOW.getTime() - n * 86_400_000).toISOString();

function cache(name: string, over: Partial<CacheItem> = {}): CacheItem {
  return {
    kind: 'cache',
    name,
    ecosystem: 'npm',
    hash: 'a1b2c3d4e5f6',
    state: 'complete',
    sizeBytes: 10,
    createdAt: daysAgo(100),
    lastUsed: undefined,
    superseded: false,
    ...over,
  };
}
function home(name: string, project: string | undefined, exists: boolean | undefined): HomeItem {
  return { kind: 'home', name, project, projectExists: exists, sizeBytes: 5, createdAt: daysAgo(400) };
}
function image(ref: string, kind: 'composed' | 'base', stale: boolean, containers = 0): ImageItem {
  return { kind, ref, id: ref, sizeBytes: 100, ownBytes: 50, stale, containers };
}
const idle: InUse = { volumes: new Map(), images: new Map() };

describe('cache gc selection', () => {
  const caches = [
    cache('mino-cache-npm-000000000001', { createdAt: daysAgo(100), lastUsed: daysAgo(2) }),
    cache('mino-cache-npm-000000000002', { createdAt: daysAgo(100), lastUsed: daysAgo(45) }),
    cache('mino-cache-npm-000000000003', { createdAt: daysAgo(40), lastUsed: undefined, state: 'unknown' }),
    cache('mino-cache-npm-000000000004', { createdAt: daysAgo(1), superseded: true }),
  ];
  const homes = [
    home('mino-home-000000000001', '/gone', false),
    home('mino-home-000000000002', '/here', true),
    home('mino-home-000000000003', undefined, undefined),
  ];

  it('ages caches by last use, not creation (creation only when no use is recorded)', () => {
    expect(lastActivity(caches[0]!)).toBe(Date.parse(daysAgo(2)));
    expect(lastActivity(caches[2]!)).toBe(Date.parse(daysAgo(40)));
    const sel = selectForGc({ caches, homes: [], inUse: idle }, { days: 30, now: NOW });
    expect(sel.remove.map((d) => [targetName(d.target), d.reason])).toEqual([
      ['mino-cache-npm-000000000002', 'unused for 45 days'],
      ['mino-cache-npm-000000000003', 'unused for 40 days'],
      ['mino-cache-npm-000000000004', 'replaced by a --cache-fresh run'],
    ]);
  });

  it('always considers home volumes of projects that are gone, even when no cache is old', () => {
    const sel = selectForGc({ caches: [caches[0]!], homes, inUse: idle }, { days: 30, now: NOW });
    expect(sel.remove.map((d) => [targetName(d.target), d.reason])).toEqual([
      ['mino-home-000000000001', 'project /gone no longer exists'],
    ]);
  });

  it('keeps caches of any age with --days 0, but still removes orphans', () => {
    const sel = selectForGc({ caches, homes, inUse: idle }, { days: 0, now: NOW });
    expect(sel.remove.map((d) => targetName(d.target))).toEqual([
      'mino-cache-npm-000000000004',
      'mino-home-000000000001',
    ]);
  });

  it('never selects what a session uses, and says why it kept it', () => {
    const inUse: InUse = {
      volumes: new Map([
        ['mino-cache-npm-000000000002', 'running session a'],
        ['mino-home-000000000001', 'running session b'],
      ]),
      images: new Map(),
    };
    const sel = selectForGc({ caches, homes, inUse }, { days: 30, now: NOW });
    expect(sel.remove.map((d) => targetName(d.target))).not.toContain('mino-cache-npm-000000000002');
    expect(sel.keep.map((d) => [targetName(d.target), d.reason])).toEqual([
      ['mino-cache-npm-000000000002', 'in use by running session a'],
      ['mino-home-000000000001', 'in use by running session b'],
    ]);
  });
});

describe('cache clear selection', () => {
  const inv = {
    caches: [cache('mino-cache-npm-000000000001'), cache('mino-cache-go-000000000002')],
    homes: [home('mino-home-000000000001', '/here', true)],
    images: [
      image('localhost/mino-composed-aaaaaaaaaaaa:latest', 'composed', false),
      image('localhost/mino-composed-bbbbbbbbbbbb:latest', 'composed', true, 1),
      image('localhost/mino-base:latest', 'base', false),
      image('localhost/mino-base:111111111111', 'base', false),
      image('localhost/mino-base:222222222222', 'base', true),
    ],
    inUse: { volumes: new Map([['mino-cache-go-000000000002', 'running session x']]), images: new Map() } as InUse,
  };

  it('takes only what the flags name', () => {
    expect(
      selectForClear(inv, { volumes: true, images: false, home: false }).remove.map((d) => targetName(d.target)),
    ).toEqual(['mino-cache-npm-000000000001']);
    expect(
      selectForClear(inv, { volumes: false, images: false, home: true }).remove.map((d) => targetName(d.target)),
    ).toEqual(['mino-home-000000000001']);
  });

  it('clears composed images and stale base tags, never the current base, nor images a container uses', () => {
    const sel = selectForClear(inv, { volumes: false, images: true, home: false });
    expect(sel.remove.map((d) => targetName(d.target))).toEqual([
      'localhost/mino-composed-aaaaaaaaaaaa:latest',
      'localhost/mino-base:222222222222',
    ]);
    expect(sel.keep.map((d) => [targetName(d.target), d.reason])).toEqual([
      ['localhost/mino-composed-bbbbbbbbbbbb:latest', 'in use by 1 container(s)'],
    ]);
  });

  it("keeps a running session's cache under --all", () => {
    const sel = selectForClear(inv, { volumes: true, images: true, home: true });
    expect(sel.keep.map((d) => targetName(d.target))).toContain('mino-cache-go-000000000002');
    expect(sel.remove.map((d) => targetName(d.target))).not.toContain('mino-cache-go-000000000002');
  });

  it('removes volumes first and base tags after the composed images built on them', () => {
    const sel = selectForClear(inv, { volumes: true, images: true, home: true });
    expect(removalOrder([...sel.remove].reverse()).map((d) => d.target.kind)).toEqual([
      'cache',
      'home',
      'composed',
      'base',
    ]);
  });
});

describe('CA bundle secrets of a remote engine', () => {
  it('lists them with the images; clear --images removes those nothing uses, keeps the host bundle of now', () => {
    const inv = buildInventory({
      volumes: [],
      usage: new Map(),
      sidecars: [],
      homeMarkers: new Map(),
      images: [],
      containers: [],
      projectExists: () => true,
      caBundles: [
        { name: 'mino-ca-0123456789ab.00000000000000aa', id: 'a', inUseBy: "the host's CAs now" },
        { name: 'mino-ca-0123456789ab.00000000000000bb', id: 'b' },
      ],
    });
    expect(inv.images.map((i) => [i.kind, i.ref, i.sizeBytes])).toEqual([
      ['ca-bundle', 'mino-ca-0123456789ab.00000000000000aa', 0],
      ['ca-bundle', 'mino-ca-0123456789ab.00000000000000bb', 0],
    ]);
    const sel = selectForClear(inv, { volumes: false, images: true, home: false });
    expect(sel.remove.map((d) => targetName(d.target))).toEqual(['mino-ca-0123456789ab.00000000000000bb']);
    expect(sel.keep.map((d) => [targetName(d.target), d.reason])).toEqual([
      ['mino-ca-0123456789ab.00000000000000aa', "in use by the host's CAs now"],
    ]);
  });
});
