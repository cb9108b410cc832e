import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePrerequisites } from '../../helpers/engines.js';
import { Sandbox, buildMinoLikeImage } from '../../helpers/sandbox.js';

requirePrerequisites();

const key = (content: string): string => createHash('sha256').update(content).digest('hex').slice(0, 12);

/**
 * Dependency caches under rootless podman (`--userns=keep-id`): the container user owns the new
 * cache volumes, `mino cache list` measures them inside the user namespace, and a complete cache
 * is read-only on the next run with --cache-ro.
 */
describe('dependency caches [rootless]', () => {
  let box: Sandbox;
  let image = '';
  let project = '';
  const lock = `{"rootless":"${Math.random()}"}`;
  const cargo = `cargo-${Math.random()}`;

  beforeAll(() => {
    box = new Sandbox('rootless');
    image = buildMinoLikeImage('rootless');
    project = box.project('proj');
    writeFileSync(join(project, 'package-lock.json'), lock);
    writeFileSync(join(project, 'Cargo.lock'), cargo);
    box.track(`mino-cache-npm-${key(lock)}`);
    box.track(`mino-cache-cargo-${key(cargo)}`);
    box.track(`mino-home-${key(project)}`);
  }, 300_000);
  // The image carries this run's io.mino.test label: the global teardown removes it (removing
  // images while other files list theirs trips podman 4.3).
  afterAll(() => box?.cleanup());

  const run = (args: string[], command: string): ReturnType<Sandbox['mino']> =>
    box.mino(['run', '-p', project, '--image', image, '--network', 'none', ...args, '--', 'sh', '-c', command]);

  it('gives the container user both caches, read-write while building', async () => {
    const r = await run(
      [],
      'id -u; head -c 4096 /dev/zero > /cache/npm/a && echo y > /cache/cargo/b && stat -c %u /cache/npm /cache/cargo',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('1000\n1000\n1000\n');
  });

  it('measures the caches and shows them complete', async () => {
    const list = JSON.parse((await box.mino(['cache', 'list', '-f', 'json'])).stdout) as {
      caches: Array<{ name: string; state: string; size_bytes: number | null }>;
    };
    const npm = list.caches.find((c) => c.name === `mino-cache-npm-${key(lock)}`);
    expect(npm?.state).toBe('complete');
    expect(npm?.size_bytes).toBeGreaterThanOrEqual(4096);
  });

  it('mounts a complete cache read-only on the next run with --cache-ro', async () => {
    const r = await run(
      ['--cache-ro'],
      'cat /cache/cargo/b; touch /cache/npm/c 2>/dev/null && echo writable || echo read-only',
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('y\nread-only\n');
  });
});
