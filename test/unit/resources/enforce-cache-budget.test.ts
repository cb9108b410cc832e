import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BUDGET_INTERVAL_MS, enforceCacheBudget } from '../../../src/resources/enforce-cache-budget.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { CacheStore } from '../../../src/cache/cache-store.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

describe('disk budget check of mino run', () => {
  let root: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  const GB = 1024 ** 3;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-budget-'));
    vi.stubEnv('XDG_DATA_HOME', join(root, 'data'));
    const state = join(root, 'state');
    engine = new FakeRuntime();
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    const store = new CacheStore(state);
    for (const [name, used] of [
      ['mino-cache-npm-000000000001', '2026-01-01T00:00:00Z'],
      ['mino-cache-npm-000000000002', '2026-03-01T00:00:00Z'],
    ] as const) {
      engine.volumes.set(name, { name, labels: {}, mountpoint: `/v/${name}` });
      store.use(name, new Date(used));
      store.finalize(name, 0, new Date(used));
      engine.usage.set(name, 2 * GB);
    }
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(root, { recursive: true, force: true });
  });

  it('evicts the least recently used complete cache when over the limit, and says so', async () => {
    const lines = await enforceCacheBudget(ctx, 3);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^Cache budget \(3\.0GB\) exceeded: removed mino-cache-npm-000000000001 \(2\.0GB, least recently used cache\)$/,
    );
    expect(engine.volumes.has('mino-cache-npm-000000000002')).toBe(true);
  });

  it('asks podman nothing more than once per interval, and nothing with no limit', async () => {
    expect(await enforceCacheBudget(ctx, 0)).toEqual([]);
    expect(engine.calls).toEqual([]);
    const now = Date.now();
    await enforceCacheBudget(ctx, 100, now);
    const calls = engine.calls.length;
    expect(calls).toBeGreaterThan(0);
    expect(await enforceCacheBudget(ctx, 3, now + 1000)).toEqual([]);
    expect(engine.calls).toHaveLength(calls);
    expect((await enforceCacheBudget(ctx, 3, now + BUDGET_INTERVAL_MS + 1)).length).toBe(1);
  });

  it('in the background housekeeping (the run renewed the stamp already): checks at once', async () => {
    const now = Date.now();
    await enforceCacheBudget(ctx, 100, now);
    expect((await enforceCacheBudget(ctx, 3, now + 1000, { due: true })).length).toBe(1);
  });
});
