import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ContainerRuntime, ContainerSpec } from '../../../src/runtime/container-runtime.js';
import { PodmanError } from '../../../src/runtime/podman/podman-error.js';
import { describeEachEngine, requirePrerequisites } from '../../helpers/engines.js';
import { TEST_IMAGE, TEST_LABEL, TEST_LABELS, TEST_RUN } from '../../helpers/test-env.js';

requirePrerequisites();

const labels = { ...TEST_LABELS };

function unique(engine: string, what: string): string {
  return `mino-test-${engine}-${what}-${randomBytes(3).toString('hex')}`;
}

function spec(name: string, command: string[], extra: Partial<ContainerSpec> = {}): ContainerSpec {
  return { image: TEST_IMAGE, command, name, labels, network: 'none', ...extra };
}

describeEachEngine('ContainerRuntime', (engine) => {
  let rt: ContainerRuntime;
  const created: string[] = [];

  beforeAll(() => {
    rt = engine.runtime();
  });

  afterAll(async () => {
    for (const id of created) await rt.remove(id);
  });

  it('is available and ready', async () => {
    expect(await rt.isAvailable()).toBe(true);
    await rt.ensureReady();
  });

  it('reports engine facts, rootless only for the rootless engine', async () => {
    const info = await rt.info();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.rootless).toBe(engine.id === 'rootless');
    expect(info.storageDriver).not.toBe('');
    expect(info.ociRuntime).toMatch(/^(runc|crun|crun-.*)$/);
  });

  it('runs helper commands on the podman host as the engine user', async () => {
    const result = await rt.hostExec(['id', '-u']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim() === '0').toBe(engine.id !== 'rootless');
  });

  it('runs a detached named, labelled container and lists it by label', async () => {
    const name = unique(engine.id, 'run');
    const id = await rt.run(spec(name, ['sleep', '30'], { init: true }));
    created.push(id);
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const listed = await rt.listContainers({ ...labels, 'io.mino.case': name });
    expect(listed).toEqual([]);
    const mine = (await rt.listContainers(labels)).find((c) => c.id === id);
    expect(mine).toMatchObject({ name, state: 'running', image: TEST_IMAGE, exitCode: undefined });
    expect(mine?.labels[TEST_LABEL]).toBe(TEST_RUN);
    await rt.stop(id, 5);
    const after = (await rt.listContainers(labels)).find((c) => c.id === id);
    expect(after?.state).toBe('exited');
    // sleep under --init dies of SIGTERM: 143
    expect(after?.exitCode).toBe(143);
    expect(await rt.containerExitCode(id)).toBe(143);
  });

  it('runs attached in one podman call and returns the command exit code', async () => {
    const code = await rt.runAttached(spec(unique(engine.id, 'attached'), ['sh', '-c', 'exit 7'], { autoRemove: true }));
    expect(code).toBe(7);
  });

  it('creates, then starts attached, returning the exit code', async () => {
    const id = await rt.create(spec(unique(engine.id, 'create'), ['sh', '-c', 'exit 3']));
    created.push(id);
    expect((await rt.listContainers(labels)).find((c) => c.id === id)?.state).toBe('created');
    expect(await rt.startAttached(id)).toBe(3);
    expect(await rt.containerExitCode(id)).toBe(3);
  });

  it('starts detached and follows logs until a marker, or times out', async () => {
    const id = await rt.create(spec(unique(engine.id, 'marker'), ['sh', '-c', 'echo one; sleep 0.3; echo "Bootstrap complete." >&2; sleep 30'], { init: true }));
    created.push(id);
    await rt.startDetached(id);
    const seen: string[] = [];
    expect(await rt.logsFollowUntil(id, 'Bootstrap complete.', 20_000, (l) => seen.push(l))).toBe(true);
    expect(seen).toContain('one');
    const start = Date.now();
    expect(await rt.logsFollowUntil(id, 'never printed', 800)).toBe(false);
    expect(Date.now() - start).toBeLessThan(10_000);
    await rt.kill(id);
    expect(await rt.containerExitCode(id)).toBe(137);
  });

  it('keeps stdout and stderr apart in logs and honours the line count', async () => {
    const name = unique(engine.id, 'logs');
    const code = await rt.runAttached(spec(name, ['sh', '-c', 'echo out1; echo out2; echo err1 >&2']));
    created.push(name);
    expect(code).toBe(0);
    const all = await rt.logs(name, 0);
    expect(all.stdout).toBe('out1\nout2\n');
    expect(all.stderr).toBe('err1\n');
    const last = await rt.logs(name, 1);
    expect(last.stdout + last.stderr).not.toContain('out1');
    await rt.logsFollow(name); // the container has exited: follow returns
  });

  it('execs in a running container and returns the exit code', async () => {
    const id = await rt.run(spec(unique(engine.id, 'exec'), ['sleep', '60'], { init: true }));
    created.push(id);
    expect(await rt.exec(id, ['sh', '-c', 'test "$FOO" = bar && exit 5'], { tty: false, interactive: false, env: { FOO: 'bar' } })).toBe(5);
    await rt.kill(id);
  });

  it('treats stop, kill and remove of a missing container as done', async () => {
    await rt.stop('mino-test-does-not-exist', 1);
    await rt.kill('mino-test-does-not-exist');
    await rt.remove('mino-test-does-not-exist');
    expect(await rt.containerExitCode('mino-test-does-not-exist')).toBeUndefined();
  });

  it('prunes only stopped containers carrying the labels', async () => {
    const caseLabel = { ...labels, 'io.mino.case': unique(engine.id, 'prune') };
    const stopped = await rt.create(spec(unique(engine.id, 'p1'), ['true'], { labels: caseLabel }));
    const other = await rt.create(spec(unique(engine.id, 'p2'), ['true']));
    created.push(stopped, other);
    const removed = await rt.containerPrune(caseLabel);
    expect(removed).toHaveLength(1);
    expect(stopped.startsWith(removed[0] ?? 'x')).toBe(true);
    expect((await rt.listContainers(labels)).some((c) => c.id === other)).toBe(true);
    await expect(rt.containerPrune({})).rejects.toThrow(/label filter/);
  });

  it('checks, builds with progress, lists and removes images', async () => {
    const tag = `localhost/${unique(engine.id, 'img')}:latest`;
    expect(await rt.imageExists(TEST_IMAGE)).toBe(true);
    expect(await rt.imageExists(tag)).toBe(false);
    const ctx = mkdtempSync(join(tmpdir(), 'mino-test-ctx-'));
    chmodSync(ctx, 0o755);
    writeFileSync(join(ctx, 'Containerfile'), `FROM ${TEST_IMAGE}\nRUN echo built > /built\n`, { mode: 0o644 });
    try {
      const lines: string[] = [];
      await rt.buildImage(ctx, tag, { file: join(ctx, 'Containerfile'), labels, onOutput: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/STEP 1\/3: FROM/);
      expect(await rt.imageExists(tag)).toBe(true);
      const prefix = tag.slice('localhost/'.length, tag.indexOf('-img-') + 5);
      expect(await rt.imageListPrefixed(prefix)).toContain(tag);
      writeFileSync(join(ctx, 'Containerfile'), `FROM ${TEST_IMAGE}\nRUN echo failing-step; exit 9\n`);
      const err = await rt.buildImage(ctx, `${tag}-bad`, { file: join(ctx, 'Containerfile'), labels }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PodmanError);
      expect((err as PodmanError).stderr).toContain('failing-step');
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    await rt.imageRemove(tag);
    expect(await rt.imageExists(tag)).toBe(false);
    await rt.imageRemove(tag); // missing: fine
  });

  it('imports files from the podman host as an image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mino-test-import-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'hello.txt'), 'hi\n', { mode: 0o644 });
    const tag = `localhost/${unique(engine.id, 'import')}:1`;
    try {
      await rt.importImage(dir, tag, { changes: [`LABEL ${TEST_LABEL}=${TEST_RUN}`] });
      expect(await rt.imageExists(tag)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await rt.imageRemove(tag);
    }
  });

  it('creates, inspects, lists, measures and removes volumes', async () => {
    const name = unique(engine.id, 'vol');
    expect(await rt.volumeInspect(name)).toBeUndefined();
    await rt.volumeCreate(name, { ...labels, 'io.mino.kind': 'test' });
    await rt.volumeCreate(name, labels); // already exists: fine
    const info = await rt.volumeInspect(name);
    expect(info?.labels['io.mino.kind']).toBe('test');
    expect(info?.mountpoint).toMatch(/^\//);
    expect((await rt.volumeList(name)).map((v) => v.name)).toEqual([name]);
    const code = await rt.runAttached(spec(unique(engine.id, 'fill'), ['sh', '-c', 'head -c 1048576 /dev/zero > /data/blob'], {
      autoRemove: true, mounts: [{ source: name, target: '/data' }],
    }));
    expect(code).toBe(0);
    const usage = await rt.volumeDiskUsage(name);
    expect(usage.get(name)).toBeGreaterThanOrEqual(1048576);
    expect(usage.get(name)).toBeLessThan(1048576 * 2);
    await rt.volumeRemove(name);
    expect(await rt.volumeInspect(name)).toBeUndefined();
    await rt.volumeRemove(name);
  });

  it('mounts read-only when asked', async () => {
    const name = unique(engine.id, 'rovol');
    await rt.volumeCreate(name, labels);
    const code = await rt.runAttached(spec(unique(engine.id, 'ro'), ['sh', '-c', 'touch /data/x'], {
      autoRemove: true, mounts: [{ source: name, target: '/data', readOnly: true }],
    }));
    expect(code).not.toBe(0);
    await rt.volumeRemove(name);
  });

  it('passes secrets as environment variables; inspect hides them only where podman says it can', async () => {
    const secret = unique(engine.id, 'secret');
    const value = `s3cr3t-${randomBytes(8).toString('hex')}`;
    await rt.secretCreate(secret, value, labels);
    await rt.secretCreate(secret, value, labels); // replace: fine
    const name = unique(engine.id, 'sec');
    // Compare digests so the value itself never appears on the container's command line.
    const digest = createHash('md5').update(value).digest('hex');
    const code = await rt.runAttached(spec(name, ['sh', '-c', `test "$(printf %s "$API_TOKEN" | md5sum | cut -c1-32)" = ${digest}`], {
      secretEnv: [{ secret, target: 'API_TOKEN' }],
    }));
    created.push(name);
    expect(code).toBe(0);
    const inspect = await rt.hostExec(['podman', 'container', 'inspect', name]);
    expect(inspect.exitCode).toBe(0);
    // podman < 5.3 shows type=env secret values in Config.Env (containers/podman#23788).
    const { envSecretsHiddenFromInspect } = await rt.capabilities();
    expect(inspect.stdout.includes(value)).toBe(!envSecretsHiddenFromInspect);
    await rt.secretRemove(secret);
    await rt.secretRemove(secret);
  });

  it('mounts secrets as files owned by the container user, never shown in inspect', async () => {
    const secret = unique(engine.id, 'fsecret');
    const value = `f1le-${randomBytes(8).toString('hex')}`;
    await rt.secretCreate(secret, value, labels);
    const digest = createHash('md5').update(value).digest('hex');
    const name = unique(engine.id, 'fsec');
    const code = await rt.runAttached(spec(name, ['sh', '-c', `test "$(md5sum < /run/secrets/token | cut -c1-32)" = ${digest} && test "$(stat -c %a:%u /run/secrets/token)" = 400:1000`], {
      user: '1000:1000', secretFiles: [{ secret, target: 'token', uid: 1000 }],
    }));
    created.push(name);
    expect(code).toBe(0);
    const inspect = await rt.hostExec(['podman', 'container', 'inspect', name]);
    expect(inspect.stdout).not.toContain(value);
    await rt.secretRemove(secret);
  });
});
