import { describe, expect, it } from 'vitest';
import type { GatheredInventory } from '../../../src/resources/manage-caches.js';
import { cacheTables, inventoryJson, totalLine } from '../../../src/cli/cache-render.js';
import { palette } from '../../../src/common/terminal.js';

const inv: GatheredInventory = {
  caches: [
    {
      kind: 'cache',
      name: 'mino-cache-npm-a1b2c3d4e5f6',
      ecosystem: 'npm',
      hash: 'a1b2c3d4e5f6',
      state: 'complete',
      sizeBytes: 2048,
      createdAt: '2026-01-01T00:00:00Z',
      lastUsed: '2026-02-01T00:00:00Z',
      superseded: false,
    },
  ],
  homes: [
    {
      kind: 'home',
      name: 'mino-home-aaaaaaaaaaaa',
      project: '/gone',
      projectExists: false,
      sizeBytes: 10,
      createdAt: undefined,
    },
  ],
  images: [
    {
      kind: 'base',
      ref: 'localhost/mino-base:111111111111',
      id: 'x',
      sizeBytes: 100,
      ownBytes: 100,
      stale: true,
      containers: 0,
    },
  ],
  inUse: { volumes: new Map([['mino-cache-npm-a1b2c3d4e5f6', 'running session a']]), images: new Map() },
  orphanSidecars: [],
  warnings: [],
  totalBytes: 2048,
  limitBytes: 4096,
};
const plain = palette(process.stdout, { NO_COLOR: '1' });

describe('mino cache list output', () => {
  it('states the total against the limit, or that there is none', () => {
    expect(totalLine(2048, 4096)).toBe(
      'Total: 2.0KB / 4.0KB (50%) for dependency caches and composed images (cache.max_total_gb)',
    );
    expect(totalLine(2048, 0)).toBe('Total: 2.0KB (dependency caches and composed images; no limit set)');
  });

  it('shows state, use, gone projects and stale images in the tables', () => {
    const text = cacheTables(inv, plain);
    expect(text).toMatch(/mino-cache-npm-a1b2c3d4e5f6\s+npm\s+complete \(in use\)\s+2\.0KB/);
    expect(text).toContain('/gone (gone)');
    expect(text).toContain('1 home volume(s) of projects that no longer exist: mino cache gc removes them');
    expect(text).toMatch(/localhost\/mino-base:111111111111\s+base .*older mino version/);
    expect(text).toContain('Total: 2.0KB / 4.0KB (50%)');
  });

  it("writes a JSON superset of mino 1.6's document", () => {
    const json = inventoryJson(inv);
    expect(json).toMatchObject({ total_size_bytes: 2048, limit_bytes: 4096, usage_percent: 50 });
    expect((json.caches as Array<Record<string, unknown>>)[0]).toEqual({
      name: 'mino-cache-npm-a1b2c3d4e5f6',
      ecosystem: 'npm',
      hash: 'a1b2c3d4e5f6',
      state: 'complete',
      size_bytes: 2048,
      created_at: '2026-01-01T00:00:00Z',
      last_used: '2026-02-01T00:00:00Z',
      in_use_by: 'running session a',
    });
    expect((json.home_volumes as Array<Record<string, unknown>>)[0]).toMatchObject({
      name: 'mino-home-aaaaaaaaaaaa',
      project_path: '/gone',
      project_exists: false,
    });
  });
});
