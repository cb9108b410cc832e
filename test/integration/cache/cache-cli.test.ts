import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { TEST_IMAGE, TEST_RUN } from '../../helpers/test-env.js';
import { IsolatedEngine, hex, namesAfter } from './cache-helpers.js';

requirePrerequisites();

const DAY = 86_400_000;
const key = (content: string): string => createHash('sha256').update(content).digest('hex').slice(0, 12);

/** `mino cache` and the cache run path on a podman engine of its own (see IsolatedEngine). */
describe('mino cache on real podman', () => {
  let engine: IsolatedEngine;
  let image = '';

  beforeAll(() => {
    engine = new IsolatedEngine();
    image = engine.minoLikeImage(`localhost/mino-composed-7e57${hex(8)}:latest`, true);
  }, 300_000);
  afterAll(() => engine?.destroy());

  const run = (
    project: string,
    args: string[],
    command: string,
    timeoutMs?: number,
  ): ReturnType<IsolatedEngine['mino']> =>
    engine.mino(
      ['run', '-p', project, '--image', image, '--network', 'none', ...args, '--', 'sh', '-c', command],
      timeoutMs,
    );

  function sidecar(volume: string, state: string, createdDaysAgo: number, usedDaysAgo: number): void {
    const m = /^mino-cache-([a-z]+)-([0-9a-f]{12})/.exec(volume)!;
    const dir = join(engine.stateDir, 'cache');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const at = (days: number): string => new Date(Date.now() - days * DAY).toISOString();
    writeFileSync(
      join(dir, `mino-cache-${m[1]}-${m[2]}.json`),
      JSON.stringify({
        volume_name: volume,
        ecosystem: m[1],
        hash: m[2],
        state,
        created_at: at(createdDaysAgo),
        updated_at: at(createdDaysAgo),
        last_used: at(usedDaysAgo),
      }),
      { mode: 0o600 },
    );
  }

  function createVolume(name: string, labels: Record<string, string>): void {
    const r = engine.podman([
      'volume',
      'create',
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      name,
    ]);
    if (r.status !== 0) throw new Error(r.stderr);
  }

  it('a project with package-lock.json and Cargo.lock runs, each cache at its own path with its variables', async () => {
    const project = engine.project('two-locks', { 'package-lock.json': '{"a":1}', 'Cargo.lock': 'c1' });
    const r = await run(
      project,
      [],
      'echo "$npm_config_cache $CARGO_HOME"; echo ok > /cache/npm/n && echo ok > /cache/cargo/c && id -u',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('/cache/npm /cache/cargo\n1000\n');
    const vols = engine.volumes();
    expect(vols).toContain(`mino-cache-npm-${key('{"a":1}')}`);
    expect(vols).toContain(`mino-cache-cargo-${key('c1')}`);
    const labels = JSON.parse(
      engine.podman(['volume', 'inspect', '--format', '{{json .Labels}}', `mino-cache-npm-${key('{"a":1}')}`]).stdout,
    ) as Record<string, string>;
    expect(labels).toMatchObject({
      'io.mino.cache': 'true',
      'io.mino.cache.ecosystem': 'npm',
      'io.mino.cache.hash': key('{"a":1}'),
    });
    expect(Date.parse(labels['io.mino.cache.created_at'] ?? '')).not.toBeNaN();
  });

  it('two sessions at once share a complete cache read-only with --cache-ro', async () => {
    const project = engine.project('shared', { 'go.sum': 'shared1' });
    const fill = await run(project, [], 'echo filled > /cache/go/f');
    expect(fill.exitCode, fill.stderr).toBe(0);
    const both = await Promise.all(
      [1, 2].map(() =>
        run(
          project,
          ['--cache-ro'],
          'cat /cache/go/f; sleep 2; touch /cache/go/mine 2>/dev/null && echo writable || echo read-only',
        ),
      ),
    );
    for (const r of both) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toBe('filled\nread-only\n');
    }
  });

  it('a failed command leaves the cache building (read-write); success completes it (read-only with --cache-ro)', async () => {
    const project = engine.project('states', { 'go.sum': 'g1' });
    const volume = `mino-cache-go-${key('g1')}`;
    const failed = await run(project, [], 'echo one > /cache/go/f1; exit 3');
    expect(failed.exitCode).toBe(3);
    const info = await engine.mino(['cache', 'info', '-p', project]);
    expect(info.stdout).toMatch(new RegExp(`${volume}\\s+building`));
    const ok = await run(project, [], 'cat /cache/go/f1; echo two > /cache/go/f2');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('one\n');
    const list = JSON.parse((await engine.mino(['cache', 'list', '-f', 'json'])).stdout) as {
      caches: Array<{ name: string; state: string }>;
    };
    expect(list.caches.find((c) => c.name === volume)?.state).toBe('complete');
    const ro = await run(
      project,
      ['--cache-ro'],
      'cat /cache/go/f2; touch /cache/go/f3 2>/dev/null && echo writable || echo read-only',
    );
    expect(ro.stdout).toBe('two\nread-only\n');
    const rw = await run(project, [], 'touch /cache/go/f3 && echo writable');
    expect(rw.stdout).toBe('writable\n');
    const none = await run(
      project,
      ['--no-cache'],
      'ls /cache/go 2>/dev/null || echo no-cache; echo "${GOMODCACHE:-unset}"',
    );
    expect(none.stdout).toBe('no-cache\nunset\n');
  });

  it('--cache-fresh really starts empty, on a new volume, and removes the old one', async () => {
    const project = engine.project('fresh', { 'uv.lock': 'u1' });
    const old = `mino-cache-uv-${key('u1')}`;
    expect((await run(project, [], 'echo keep > /cache/uv/f')).exitCode).toBe(0);
    const r = await run(project, ['--cache-fresh'], 'ls -A /cache/uv | wc -l');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('0');
    expect(r.stderr).toContain(`removed the old one (${old})`);
    const vols = engine.volumes().filter((v) => v.startsWith(`${old}`));
    expect(vols).toHaveLength(1);
    expect(vols[0]).toMatch(new RegExp(`^${old}-[0-9a-f]{6}$`));
  });

  it('a detached session completes its cache when it is reconciled as stopped with 0', async () => {
    const project = engine.project('detached', { 'poetry.lock': 'p1' });
    const volume = `mino-cache-poetry-${key('p1')}`;
    const started = await engine.mino([
      'run',
      '-d',
      '-n',
      `det-${hex(6)}`,
      '-p',
      project,
      '--image',
      image,
      '--network',
      'none',
      '--',
      'sh',
      '-c',
      'echo x > /cache/poetry/x',
    ]);
    expect(started.exitCode, started.stderr).toBe(0);
    const sidecarFile = join(engine.stateDir, 'cache', `${volume}.json`);
    expect(JSON.parse(readFileSync(sidecarFile, 'utf8')).state).toBe('building');
    let status = '';
    for (let i = 0; i < 60 && status !== 'stopped'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const list = JSON.parse((await engine.mino(['list', '-a', '-f', 'json'])).stdout) as Array<{
        name: string;
        status: string;
      }>;
      status = list.find((s) => s.name.startsWith('det-'))?.status ?? '';
    }
    expect(status).toBe('stopped');
    expect(JSON.parse(readFileSync(sidecarFile, 'utf8')).state).toBe('complete');
  });

  it('cache gc --dry-run lists exactly what cache gc then removes', async () => {
    const alive = engine.project('alive');
    const oldCache = `mino-cache-npm-${hex(12)}`;
    const usedCache = `mino-cache-yarn-${hex(12)}`;
    const pipKey = hex(12);
    const replaced = `mino-cache-pip-${pipKey}`;
    const current = `mino-cache-pip-${pipKey}-0a0b0c`;
    const orphanHome = `mino-home-${hex(12)}`;
    const liveHome = `mino-home-${hex(12)}`;
    for (const v of [oldCache, usedCache, replaced, current]) createVolume(v, { 'io.mino.cache': 'true' });
    createVolume(orphanHome, { 'io.mino.home': 'true', 'io.mino.home.project': join(engine.root, 'deleted-project') });
    createVolume(liveHome, { 'io.mino.home': 'true', 'io.mino.home.project': alive });
    sidecar(oldCache, 'complete', 100, 40);
    sidecar(usedCache, 'complete', 100, 2); // created long ago, used lately: kept
    sidecar(current, 'building', 1, 1);

    const dry = await engine.mino(['cache', 'gc', '--days', '30', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const predicted = namesAfter(dry.stdout, 'would remove');
    expect(predicted).toEqual(expect.arrayContaining([oldCache, replaced, orphanHome]));
    expect(predicted).not.toContain(usedCache);
    expect(predicted).not.toContain(liveHome);
    const before = engine.volumes();

    const real = await engine.mino(['cache', 'gc', '--days', '30']);
    expect(real.exitCode, `${real.stdout}\n${real.stderr}`).toBe(0);
    expect(namesAfter(real.stdout, 'removed')).toEqual(predicted);
    expect(engine.volumes()).toEqual(before.filter((v) => !predicted.includes(v)));
    expect(existsSync(join(engine.stateDir, 'cache', `${oldCache}.json`))).toBe(false);
  });

  it('cache clear without -y and without a terminal removes nothing and exits 1 with a hint', async () => {
    createVolume(`mino-cache-go-${hex(12)}`, { 'io.mino.cache': 'true' });
    const before = engine.volumes();
    const r = await engine.mino(['cache', 'clear', '--volumes']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^will remove mino-cache-go-/m);
    expect(r.stderr).toContain('Hint: Re-run with -y');
    expect(engine.volumes()).toEqual(before);
    const usage = await engine.mino(['cache', 'clear']);
    expect(usage.exitCode).toBe(2);
  });

  it("cache clear --all -y leaves a running session's volumes and image, and a foreign stopped container, alone", async () => {
    const project = engine.project('busy', { 'package-lock.json': '{"busy":1}' });
    const session = `busy-${hex(6)}`;
    const started = await engine.mino([
      'run',
      '-d',
      '-n',
      session,
      '-p',
      project,
      '--image',
      image,
      '--network',
      'none',
      '--',
      'sleep',
      '300',
    ]);
    expect(started.exitCode, started.stderr).toBe(0);
    const sessionCache = `mino-cache-npm-${key('{"busy":1}')}`;
    const sessionHome = `mino-home-${createHash('sha256').update(project).digest('hex').slice(0, 12)}`;
    const foreign = `mino-test-foreign-${hex(6)}`;
    expect(
      engine.podman(['create', '--label', `io.mino.test=${TEST_RUN}`, '--name', foreign, TEST_IMAGE, 'true']).status,
    ).toBe(0);
    const spareCache = `mino-cache-go-${hex(12)}`;
    createVolume(spareCache, { 'io.mino.cache': 'true' });
    const spareImage = engine.minoLikeImage(`localhost/mino-composed-5a5e${hex(8)}:latest`, true);

    const r = await engine.mino(['cache', 'clear', '--all', '-y']);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(namesAfter(r.stdout, 'keep')).toEqual(expect.arrayContaining([sessionCache, sessionHome, image]));
    expect(namesAfter(r.stdout, 'removed')).toEqual(expect.arrayContaining([spareCache, spareImage]));
    const vols = engine.volumes();
    expect(vols).toContain(sessionCache);
    expect(vols).toContain(sessionHome);
    expect(vols).not.toContain(spareCache);
    expect(engine.podman(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n')).toContain(foreign);
    expect(engine.podman(['image', 'exists', image]).status).toBe(0);
    const list = JSON.parse((await engine.mino(['list', '-f', 'json'])).stdout) as Array<{
      name: string;
      status: string;
    }>;
    expect(list.find((s) => s.name === session)?.status).toBe('running');
    expect((await engine.mino(['stop', session, '-f'])).exitCode).toBe(0);
  });
});
