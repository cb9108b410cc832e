import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finalizeCaches } from '../../../src/cache/cache-finalize.js';
import { prepareCaches, resolveCacheMounts } from '../../../src/run/prepare-caches.js';
import { reconcileSessions } from '../../../src/lifecycle/reconcile-sessions.js';
import { stateKeyFor, type SessionContext } from '../../../src/context/session-context.js';
import { AuditLog } from '../../../src/audit/audit-log.js';
import { CacheStore } from '../../../src/cache/cache-store.js';
import { cacheKeyOf } from '../../../src/cache/lockfiles.js';
import { newSessionRecord } from '../../../src/session/session-record.js';
import { SessionStore } from '../../../src/session/session-store.js';
import { FakeRuntime, fakeContainer } from '../../helpers/fake-runtime.js';

const on = { enabled: true, fresh: false, readOnly: false };

describe('dependency caches on the run path', () => {
  let state: string;
  let project: string;
  let engine: FakeRuntime;
  let ctx: SessionContext;
  const said: string[] = [];
  const say = (m: string): void => {
    said.push(m);
  };

  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'mino-prepcache-'));
    project = mkdtempSync(join(tmpdir(), 'mino-prepcache-proj-'));
    engine = new FakeRuntime();
    ctx = {
      runtime: engine,
      store: new SessionStore(state),
      audit: new AuditLog(state, false),
      stateDir: state,
      stateKey: stateKeyFor(state),
    };
    said.length = 0;
  });
  afterEach(() => {
    rmSync(state, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  const npmVolume = (): string => `mino-cache-npm-${cacheKeyOf('{}')}`;

  it('asks podman nothing for a project without lockfiles', async () => {
    const caches = await resolveCacheMounts(ctx, project, on);
    expect(caches).toEqual([]);
    await prepareCaches(ctx, caches, say);
    expect(engine.calls).toEqual([]);
  });

  it('creates a new cache once, labelled; later runs ask podman one volume list only', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    writeFileSync(join(project, 'Cargo.lock'), 'c');
    const first = await resolveCacheMounts(ctx, project, on);
    expect(first.map((c) => [c.ecosystem, c.state, c.readOnly])).toEqual([
      ['npm', 'miss', false],
      ['cargo', 'miss', false],
    ]);
    await prepareCaches(ctx, first, say, new Date('2026-03-01T00:00:00Z'));
    expect(
      engine
        .callLog()
        .map((c) => c.split(' {')[0])
        .sort(),
    ).toEqual([
      `volumeCreate mino-cache-cargo-${cacheKeyOf('c')}`,
      `volumeCreate ${npmVolume()}`,
      'volumeList mino-cache-',
    ]);
    expect(engine.volumes.get(npmVolume())?.labels).toMatchObject({
      'io.mino.cache': 'true',
      'io.mino.cache.ecosystem': 'npm',
      'io.mino.cache.hash': cacheKeyOf('{}'),
    });

    engine.clearCalls();
    const second = await resolveCacheMounts(ctx, project, on);
    expect(second.map((c) => c.state)).toEqual(['building', 'building']);
    await prepareCaches(ctx, second, say, new Date('2026-03-02T00:00:00Z'));
    expect(engine.callLog()).toEqual(['volumeList mino-cache-']);
    expect(new CacheStore(state).get(npmVolume())?.last_used).toBe('2026-03-02T00:00:00.000Z');
  });

  it('completes a cache when the command exits 0 (read-only only with --cache-ro), not when it fails', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    const caches = await resolveCacheMounts(ctx, project, on);
    await prepareCaches(ctx, caches, say);
    finalizeCaches(state, [npmVolume()], 1);
    expect((await resolveCacheMounts(ctx, project, on))[0]).toMatchObject({ state: 'building', readOnly: false });
    finalizeCaches(state, [npmVolume()], 0);
    expect((await resolveCacheMounts(ctx, project, on))[0]).toMatchObject({
      state: 'complete',
      readOnly: false,
      finalize: false,
    });
    expect((await resolveCacheMounts(ctx, project, { ...on, readOnly: true }))[0]).toMatchObject({ readOnly: true });
  });

  it('--cache-fresh starts a new empty volume and removes the old one when nothing uses it', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    await prepareCaches(ctx, await resolveCacheMounts(ctx, project, on), say);
    finalizeCaches(state, [npmVolume()], 0);
    const fresh = await resolveCacheMounts(ctx, project, { ...on, fresh: true });
    expect(fresh[0]?.volume).toMatch(new RegExp(`^${npmVolume()}-[0-9a-f]{6}$`));
    await prepareCaches(ctx, fresh, say);
    expect(engine.volumes.has(npmVolume())).toBe(false);
    expect(engine.callLog()).toContain(`volumeRemove ${npmVolume()} {"force":false}`);
    expect((await resolveCacheMounts(ctx, project, on))[0]).toMatchObject({
      volume: fresh[0]?.volume,
      state: 'building',
    });
  });

  it('--cache-fresh keeps the old volume while a container uses it', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    await prepareCaches(ctx, await resolveCacheMounts(ctx, project, on), say);
    engine.containers.push(fakeContainer('mino-other', 'running', {}, { volumes: [npmVolume()] }));
    await prepareCaches(ctx, await resolveCacheMounts(ctx, project, { ...on, fresh: true }), say);
    expect(engine.volumes.has(npmVolume())).toBe(true);
    expect(said.join('\n')).toMatch(/still used by a container/);
  });

  it('completes the caches of a detached session when reconciliation finds it exited 0', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    await prepareCaches(ctx, await resolveCacheMounts(ctx, project, on), say);
    for (const [name, code] of [
      ['ok', 0],
      ['bad', 3],
    ] as const) {
      ctx.store.create(
        newSessionRecord({
          name,
          projectDir: project,
          command: ['npm', 'ci'],
          containerId: `mino-${name}`,
          status: 'running',
          ownerPid: 999_999_999,
          mode: 'detached',
          homeVolume: null,
        }),
      );
      engine.containers.push(
        fakeContainer(
          `mino-${name}`,
          'exited',
          { 'io.mino.session': name, 'io.mino.state': ctx.stateKey, 'io.mino.caches.finalize': npmVolume() },
          { exitCode: code },
        ),
      );
    }
    engine.containers.reverse(); // the failed one is reconciled first
    await reconcileSessions(ctx);
    expect(new CacheStore(state).get(npmVolume())?.state).toBe('complete');
    expect(engine.containers).toEqual([]);
  });

  it('leaves the cache building when the detached session failed', async () => {
    writeFileSync(join(project, 'package-lock.json'), '{}');
    await prepareCaches(ctx, await resolveCacheMounts(ctx, project, on), say);
    ctx.store.create(
      newSessionRecord({
        name: 'bad',
        projectDir: project,
        command: ['false'],
        containerId: 'mino-bad',
        status: 'running',
        ownerPid: 999_999_999,
        mode: 'detached',
        homeVolume: null,
      }),
    );
    engine.containers.push(
      fakeContainer(
        'mino-bad',
        'exited',
        { 'io.mino.session': 'bad', 'io.mino.state': ctx.stateKey, 'io.mino.caches.finalize': npmVolume() },
        { exitCode: 1 },
      ),
    );
    await reconcileSessions(ctx);
    expect(new CacheStore(state).get(npmVolume())?.state).toBe('building');
  });
});

describe('a cache whose volume vanished', () => {
  it('starts over read-write instead of mounting an empty volume read-only', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mino-prepcache-'));
    const project = mkdtempSync(join(tmpdir(), 'mino-prepcache-proj-'));
    try {
      const engine = new FakeRuntime();
      const ctx: SessionContext = {
        runtime: engine,
        store: new SessionStore(state),
        audit: new AuditLog(state, false),
        stateDir: state,
        stateKey: stateKeyFor(state),
      };
      writeFileSync(join(project, 'go.sum'), 'g');
      await prepareCaches(ctx, await resolveCacheMounts(ctx, project, on), () => undefined);
      const volume = `mino-cache-go-${cacheKeyOf('g')}`;
      finalizeCaches(state, [volume], 0);
      expect((await resolveCacheMounts(ctx, project, { ...on, readOnly: true }))[0]).toMatchObject({
        state: 'complete',
        readOnly: true,
        create: false,
      });
      engine.volumes.delete(volume); // podman volume prune behind mino's back
      expect((await resolveCacheMounts(ctx, project, on))[0]).toMatchObject({
        state: 'miss',
        readOnly: false,
        create: true,
        finalize: true,
      });
    } finally {
      rmSync(state, { recursive: true, force: true });
      rmSync(project, { recursive: true, force: true });
    }
  });
});
