import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetOrphanSidecars, gatherInventory, removeTargets } from '../../../src/resources/manage-caches.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { selectForClear, selectForGc, targetName } from '../../../src/cache/cache-selection.js';
import { CacheStore } from '../../../src/cache/cache-store.js';
import { rememberComposed, readImageIndex } from '../../../src/image/image-index.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { homeVolumeKnown, rememberHomeVolume } from '../../../src/volume/home-volume-marker.js';
import { FakeRuntime, fakeContainer, fixtureImages } from '../../helpers/fake-runtime.js';

const OLD = 'mino-cache-npm-a1b2c3d4e5f6';
const BUSY = 'mino-cache-cargo-0123456789ab';
const GONE_HOME = 'mino-home-bbbbbbbbbbbb';

describe('mino cache use cases', () => {
  let root: string;
  let state: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mino-managecache-'));
    state = join(root, 'state');
    vi.stubEnv('XDG_DATA_HOME', join(root, 'data'));
    engine = new FakeRuntime();
    engine.images = fixtureImages('images-mino.json');
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    const store = new CacheStore(state);
    for (const v of [OLD, BUSY]) {
      engine.volumes.set(v, { name: v, labels: {}, mountpoint: `/v/${v}` });
      store.use(v, new Date('2026-01-01T00:00:00Z'));
    }
    store.use('mino-cache-go-ffffffffffff', new Date('2026-01-01T00:00:00Z')); // its volume is gone
    engine.volumes.set(GONE_HOME, { name: GONE_HOME, labels: {}, mountpoint: `/v/${GONE_HOME}` });
    rememberHomeVolume(state, GONE_HOME, join(root, 'deleted-project'));
    engine.volumes.set('mino-vol-data', { name: 'mino-vol-data', labels: {} });
    engine.containers.push(
      fakeContainer(
        'mino-agent',
        'running',
        { 'io.mino.session': 'agent', 'io.mino.caches': BUSY },
        { volumes: [BUSY] },
      ),
    );
    engine.containers.push(fakeContainer('foreign', 'exited', {}));
    engine.usage.set(OLD, 2048).set(BUSY, 4096);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(root, { recursive: true, force: true });
  });

  it('gathers with one volume list, one size measurement and one image list, after reconciling', async () => {
    const inv = await gatherInventory(ctx, { images: true, limitGb: 50 });
    expect(engine.callNames().sort()).toEqual(['imageList', 'listContainers', 'volumeDiskUsage', 'volumeList']);
    expect(engine.callLog().filter((c) => c.startsWith('volume'))).toEqual([
      'volumeList mino-',
      'volumeDiskUsage mino- [3 items]',
    ]);
    expect(inv.caches.map((c) => c.name)).toEqual([BUSY, OLD]);
    expect(inv.homes.map((h) => [h.name, h.projectExists])).toEqual([[GONE_HOME, false]]);
    expect(inv.orphanSidecars.map((s) => s.volume_name)).toEqual(['mino-cache-go-ffffffffffff']);
    expect(inv.limitBytes).toBe(50 * 1024 ** 3);
    expect(inv.totalBytes).toBeGreaterThanOrEqual(2048 + 4096);
  });

  it("gc removes old and orphaned things, keeps the running session's cache, and cleans up sidecars and markers", async () => {
    const inv = await gatherInventory(ctx, { images: false, limitGb: 50 });
    const sel = selectForGc(inv, { days: 30, now: new Date('2026-06-01T00:00:00Z') });
    expect(sel.remove.map((d) => targetName(d.target))).toEqual([OLD, GONE_HOME]);
    expect(sel.keep.map((d) => [targetName(d.target), d.reason])).toEqual([[BUSY, 'in use by running session agent']]);
    const results = await removeTargets(ctx, sel.remove);
    expect(results.every((r) => r.removed)).toBe(true);
    expect(engine.callLog()).toContain(`volumeRemove ${OLD} {"force":false}`);
    expect(new CacheStore(state).get(OLD)).toBeUndefined();
    expect(homeVolumeKnown(state, GONE_HOME)).toBe(false);
    expect(engine.volumes.has(BUSY)).toBe(true);
    expect(forgetOrphanSidecars(ctx, inv)).toEqual(['mino-cache-go-ffffffffffff']);
    expect(existsSync(join(state, 'cache', 'mino-cache-go-ffffffffffff.json'))).toBe(false);
  });

  it('on another engine, only its own sessions hold volumes, and no local cache record is an orphan', async () => {
    // The same runtime stands for engine gpu: the local session's container (no engine label)
    // says nothing about gpu's volumes of the same name; gpu's own session does.
    engine.containers.push(
      fakeContainer(
        'mino-remote',
        'running',
        { 'io.mino.session': 'remote', 'io.mino.caches': OLD, 'io.mino.engine': 'gpu' },
        { volumes: [OLD] },
      ),
    );
    const inv = await gatherInventory({ ...ctx, engine: 'gpu' }, { images: false, limitGb: 50 });
    const sel = selectForGc(inv, { days: 30, now: new Date('2026-06-01T00:00:00Z') });
    expect(sel.keep.map((d) => [targetName(d.target), d.reason])).toEqual([[OLD, 'in use by running session remote']]);
    expect(sel.remove.map((d) => targetName(d.target))).toContain(BUSY);
    expect(inv.orphanSidecars).toEqual([]);
    // And here, the other way round.
    const here = await gatherInventory(ctx, { images: false, limitGb: 50 });
    expect(
      selectForGc(here, { days: 30, now: new Date('2026-06-01T00:00:00Z') }).keep.map((d) => targetName(d.target)),
    ).toEqual([BUSY]);
  });

  it("clearing images on a remote engine removes this state's sync helpers there first (they run the sessions' images)", async () => {
    const gpu = { ...ctx, engine: 'gpu' };
    mkdirSync(join(state, 'sync'), { recursive: true });
    const until = Math.floor(Date.now() / 1000) + 60;
    writeFileSync(
      join(state, 'sync', 'gpu--mino-project-x.json.helper'),
      JSON.stringify({ name: 'mino.sync.x', until }),
    );
    engine.containers.push(
      fakeContainer('mino.sync.x', 'running', { 'io.mino.state': ctx.stateKey, 'io.mino.sync.helper': '1' }),
    );
    const inv = await gatherInventory(gpu, { images: true, limitGb: 50 });
    const images = selectForClear(inv, { volumes: false, images: true, home: false }).remove;
    expect(images.length).toBeGreaterThan(0);
    engine.clearCalls();
    await removeTargets(gpu, images);
    const calls = engine.callNames();
    expect(calls.indexOf('remove')).toBeGreaterThan(-1);
    expect(calls.indexOf('remove')).toBeLessThan(calls.indexOf('imageRemove'));
    expect(engine.containers.map((c) => c.name)).not.toContain('mino.sync.x');
  });

  it('never removes or prunes a container, and reports what podman refuses instead of forcing', async () => {
    engine.containers.push(fakeContainer('foreign-user', 'exited', {}, { volumes: [OLD] }));
    const inv = await gatherInventory(ctx, { images: false, limitGb: 50 });
    const results = await removeTargets(ctx, selectForClear(inv, { volumes: true, images: false, home: false }).remove);
    expect(results.map((r) => [targetName(r.decision.target), r.removed])).toEqual([[OLD, false]]);
    expect(results[0]?.error).toMatch(/still used by container/);
    expect(new CacheStore(state).get(OLD)).toBeDefined();
    expect(engine.callNames().filter((m) => m === 'remove')).toEqual([]);
    expect(engine.containers.map((c) => c.name)).toContain('foreign');
  });

  it('clear --images removes composed images (forgetting them in the image index) and stale base tags', async () => {
    const dataDir = join(root, 'data', 'mino');
    const latestId = 'bceccc45c50fa32fb514fae8e8679d88d186bd9c8dbb15159633d65cc9dc5513';
    rememberComposed(dataDir, latestId, 'localhost/mino-composed-1cc8716bddaa:latest');
    const inv = await gatherInventory(ctx, { images: true, limitGb: 50 });
    const sel = selectForClear(inv, { volumes: false, images: true, home: false });
    const results = await removeTargets(ctx, sel.remove);
    expect(engine.callsTo('imageRemove').map(([ref]) => ref)).toEqual([
      'localhost/mino-composed-1310a98911de:latest',
      'localhost/mino-composed-1cc8716bddaa:latest',
      'localhost/mino-base:556035d88041',
      'localhost/mino-base:80f734ff4218',
    ]);
    expect(results.every((r) => r.removed)).toBe(true);
    expect(engine.images.flatMap((i) => i.names).filter((n) => n.includes('mino-composed'))).toEqual([]);
    expect(readImageIndex(dataDir)?.composed).toEqual([]);
    expect(JSON.parse(readFileSync(join(dataDir, 'images.json'), 'utf8')).base).toBe(latestId);
  });
});
