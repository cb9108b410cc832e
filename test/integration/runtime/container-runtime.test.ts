import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Host } from '../../../src/host/host.js';
import type { ContainerRuntime, ContainerSpec } from '../../../src/runtime/container-runtime.js';
import { EngineError } from '../../../src/runtime/runtime-errors.js';
import { describeEachEngine, requirePrerequisites } from '../../helpers/engines.js';
import { exclusive } from '../../helpers/exclusive.js';
import { TEST_IMAGE, TEST_LABEL, TEST_LABELS, TEST_RUN } from '../../helpers/test-env.js';

// Removes or retags images of the shared engines: one such file at a time (vitest.config.ts).
exclusive('image-store');

requirePrerequisites();

const labels = { ...TEST_LABELS };

function unique(engine: string, what: string): string {
  return `mino-test-${engine}-${what}-${randomBytes(3).toString('hex')}`;
}

/** A fresh directory on the engine's host, owned by the engine's user. */
async function engineTempDir(host: Host): Promise<string> {
  const made = await host.run(['mktemp', '-d', '/tmp/mino-test-rt.XXXXXX']);
  if (made.exitCode !== 0) throw new Error(`mktemp failed: ${made.stderr}`);
  const dir = made.stdout.trim();
  await host.run(['chmod', '755', dir]);
  return dir;
}

/** The static busybox the test image is made of. */
const busyboxPath = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';

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
    expect(info.graphRoot).toMatch(/^\//);
    expect(info.runRoot).toMatch(/^\//);
    if (info.storageDriver === 'overlay') expect(typeof info.nativeOverlayDiff).toBe('boolean');
    expect(await rt.info({ refresh: true })).toEqual(info);
  });

  it('reports the client version', async () => {
    expect(await rt.version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("runs a program in the engine's user namespace: root there, whatever the engine", async () => {
    const result = await rt.unshare(['id', '-u']);
    expect(result).toMatchObject({ exitCode: 0, stdout: '0\n' });
    expect((await rt.unshare(['sh', '-c', 'exit 3'])).exitCode).toBe(3);
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
    const code = await rt.runAttached(
      spec(unique(engine.id, 'attached'), ['sh', '-c', 'exit 7'], { autoRemove: true }),
    );
    expect(code).toBe(7);
  });

  it('runs a container to its end with its output captured, podman failures included', async () => {
    const out = await rt.runCaptured(
      spec(unique(engine.id, 'captured'), ['sh', '-c', 'echo out; echo err >&2; exit 4'], { autoRemove: true }),
    );
    expect(out).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 4 });
    const missing = await rt.runCaptured(
      spec(unique(engine.id, 'noimage'), ['true'], {
        image: 'localhost/mino-test-no-such-image:1',
        pullNever: true,
        autoRemove: true,
      }),
    );
    expect(missing.exitCode).toBe(125);
    expect(missing.stderr).toMatch(/image not known|no such image|unable to find/i);
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
    expect(
      await rt.exec(id, ['sh', '-c', 'test "$FOO" = bar && exit 5'], {
        tty: false,
        interactive: false,
        env: { FOO: 'bar' },
      }),
    ).toBe(5);
    await rt.kill(id);
  });

  it('treats stop, kill and remove of a missing container as done', async () => {
    await rt.stop('mino-test-does-not-exist', 1);
    await rt.kill('mino-test-does-not-exist');
    await rt.remove('mino-test-does-not-exist');
    expect(await rt.containerExitCode('mino-test-does-not-exist')).toBeUndefined();
  });

  it('checks, builds with progress, lists and removes images', async () => {
    const tag = `localhost/${unique(engine.id, 'img')}:latest`;
    expect(await rt.imageExists(TEST_IMAGE)).toBe(true);
    expect(await rt.imageExists(tag)).toBe(false);
    const ctx = mkdtempSync(join(tmpdir(), 'mino-test-ctx-'));
    chmodSync(ctx, 0o755);
    // Content of its own: engines sharing one store would otherwise share the cached image.
    writeFileSync(join(ctx, 'Containerfile'), `FROM ${TEST_IMAGE}\nRUN echo built ${tag} > /built\n`, { mode: 0o644 });
    try {
      const lines: string[] = [];
      await rt.buildImage(ctx, tag, { file: join(ctx, 'Containerfile'), labels, onOutput: (l) => lines.push(l) });
      expect(lines.join('\n')).toMatch(/STEP 1\/3: FROM/);
      expect(await rt.imageExists(tag)).toBe(true);
      const listed = (await rt.imageList()).find((i) => i.names.includes(tag));
      expect(listed?.labels[TEST_LABEL]).toBe(TEST_RUN);
      expect(listed?.sizeBytes).toBeGreaterThan(0);
      writeFileSync(join(ctx, 'Containerfile'), `FROM ${TEST_IMAGE}\nRUN echo failing-step; exit 9\n`);
      const err = await rt
        .buildImage(ctx, `${tag}-bad`, { file: join(ctx, 'Containerfile'), labels })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).stderr).toContain('failing-step');
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
    await rt.imageRemove(tag);
    expect(await rt.imageExists(tag)).toBe(false);
    await rt.imageRemove(tag); // missing: fine
  });

  it('inspects an image: ID, names, size, labels and the user it runs as', async () => {
    const facts = await rt.imageInspect(TEST_IMAGE);
    expect(facts).toMatchObject({
      names: expect.arrayContaining([TEST_IMAGE]),
      user: '',
      labels: { 'io.mino.test.busybox': '1' },
    });
    expect(facts?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(facts?.sizeBytes).toBeGreaterThan(0);
    expect(await rt.imageInspect('localhost/mino-test-no-such-image:1')).toBeUndefined();
    expect((await rt.imageList()).find((i) => i.id === facts?.id)?.names).toContain(TEST_IMAGE);
  });

  it('tags an image, moving a name another image had', async () => {
    const tag = `localhost/${unique(engine.id, 'tag')}:1`;
    const busybox = await rt.imageInspect(TEST_IMAGE);
    const dir = await engineTempDir(engine.host);
    try {
      await rt.importImage(dir, `${tag}-user`, { changes: ['USER 1234:1234', `LABEL ${TEST_LABEL}=${TEST_RUN}`] });
      expect((await rt.imageInspect(`${tag}-user`))?.user).toBe('1234:1234');
      await rt.imageTag(`${tag}-user`, tag);
      expect((await rt.imageInspect(tag))?.user).toBe('1234:1234');
      await rt.imageTag(TEST_IMAGE, tag);
      expect((await rt.imageInspect(tag))?.id).toBe(busybox?.id);
      expect((await rt.imageInspect(`${tag}-user`))?.names).toEqual([`${tag}-user`]);
      await expect(rt.imageTag('localhost/mino-test-no-such-image:1', tag)).rejects.toBeInstanceOf(EngineError);
    } finally {
      await rt.imageRemove(tag);
      await rt.imageRemove(`${tag}-user`);
      await engine.host.run(['rm', '-rf', '--', dir]);
    }
    expect(await rt.imageExists(TEST_IMAGE)).toBe(true);
  });

  it('gives up a pull that gets no answer, and reports one that is refused', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = Date.now();
      const hung = await rt
        .imagePull(`127.0.0.1:${port}/mino-test/none:1`, { timeoutMs: 2000 })
        .catch((e: unknown) => e);
      expect(hung).toBeInstanceOf(EngineError);
      expect((hung as EngineError).message).toMatch(/no answer within 2 s/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      silent.close();
    }
    const refused = await rt
      .imagePull(`127.0.0.1:${port}/mino-test/none:1`, { timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EngineError);
    expect((refused as EngineError).message).not.toMatch(/no answer/);
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

  it('imports with excludes, numeric owners, and from inside the user namespace for files of sub-uids', async () => {
    const dir = await engineTempDir(engine.host);
    const tag = `localhost/${unique(engine.id, 'nsimport')}:1`;
    try {
      await engine.host.run(['mkdir', '-p', `${dir}/root/dev`, `${dir}/root/etc`]);
      await engine.host.run(['cp', busyboxPath, `${dir}/root/busybox`]);
      await engine.host.run(['touch', `${dir}/root/dev/null-ish`]);
      await engine.host.run(['sh', '-c', 'echo secret > "$1"', 'sh', `${dir}/root/etc/shadowy`]);
      // Owned by sub-uid 1 (namespace uid 1) and unreadable by anyone else: like a rootless debootstrap.
      expect((await rt.unshare(['chown', '1:1', `${dir}/root/etc/shadowy`])).exitCode).toBe(0);
      expect((await rt.unshare(['chmod', '600', `${dir}/root/etc/shadowy`])).exitCode).toBe(0);
      await rt.importImage(`${dir}/root`, tag, {
        inUserNamespace: true,
        numericOwner: true,
        exclude: ['./dev/*'],
        changes: [`LABEL ${TEST_LABEL}=${TEST_RUN}`, 'CMD ["/busybox", "sh"]'],
      });
      const out = await rt.runCaptured({
        image: tag,
        command: [
          '/busybox',
          'sh',
          '-c',
          '/busybox stat -c %u /etc/shadowy; /busybox ls /dev | /busybox grep -c null-ish',
        ],
        labels,
        network: 'none',
        autoRemove: true,
      });
      expect(out.stdout).toBe('1\n0\n');
    } finally {
      await rt.imageRemove(tag);
      await rt.unshare(['rm', '-rf', '--', `${dir}/root`]);
      await engine.host.run(['rm', '-rf', '--', dir]);
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
    const code = await rt.runAttached(
      spec(unique(engine.id, 'fill'), ['sh', '-c', 'head -c 1048576 /dev/zero > /data/blob'], {
        autoRemove: true,
        mounts: [{ source: name, target: '/data' }],
      }),
    );
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
    const code = await rt.runAttached(
      spec(unique(engine.id, 'ro'), ['sh', '-c', 'touch /data/x'], {
        autoRemove: true,
        mounts: [{ source: name, target: '/data', readOnly: true }],
      }),
    );
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
    const code = await rt.runAttached(
      spec(name, ['sh', '-c', `test "$(printf %s "$API_TOKEN" | md5sum | cut -c1-32)" = ${digest}`], {
        secretEnv: [{ secret, target: 'API_TOKEN' }],
      }),
    );
    created.push(name);
    expect(code).toBe(0);
    const inspect = await engine.host.run(['podman', 'container', 'inspect', name]);
    expect(inspect.exitCode).toBe(0);
    // podman < 5.3 shows type=env secret values in Config.Env (containers/podman#23788).
    const [major = 0, minor = 0] = (await rt.version()).split('.').map(Number);
    expect(inspect.stdout.includes(value)).toBe(major < 5 || (major === 5 && minor < 3));
    await rt.secretRemove(secret);
    await rt.secretRemove(secret);
  });

  it('mounts secrets as files owned by the container user, never shown in inspect', async () => {
    const secret = unique(engine.id, 'fsecret');
    const value = `f1le-${randomBytes(8).toString('hex')}`;
    await rt.secretCreate(secret, value, labels);
    const digest = createHash('md5').update(value).digest('hex');
    const name = unique(engine.id, 'fsec');
    const code = await rt.runAttached(
      spec(
        name,
        [
          'sh',
          '-c',
          `test "$(md5sum < /run/secrets/token | cut -c1-32)" = ${digest} && test "$(stat -c %a:%u /run/secrets/token)" = 400:1000`,
        ],
        {
          user: '1000:1000',
          secretFiles: [{ secret, target: 'token', uid: 1000 }],
        },
      ),
    );
    created.push(name);
    expect(code).toBe(0);
    const inspect = await engine.host.run(['podman', 'container', 'inspect', name]);
    expect(inspect.stdout).not.toContain(value);
    await rt.secretRemove(secret);
  });

  it('lists secrets by label, without their values', async () => {
    const caseLabel = { ...labels, 'io.mino.case': unique(engine.id, 'seclist') };
    const names = [unique(engine.id, 'sl1'), unique(engine.id, 'sl2')];
    const other = unique(engine.id, 'sl3');
    try {
      for (const n of names) await rt.secretCreate(n, `v-${n}`, caseLabel);
      await rt.secretCreate(other, 'v', labels);
      const listed = await rt.secretList(caseLabel);
      expect(listed.map((x) => x.name).sort()).toEqual([...names].sort());
      expect(listed[0]?.labels).toEqual(caseLabel);
      expect(JSON.stringify(listed)).not.toContain('v-');
      expect((await rt.secretList({ 'io.mino.case': '' })).map((x) => x.name)).toEqual(expect.arrayContaining(names));
    } finally {
      for (const n of [...names, other]) await rt.secretRemove(n);
    }
    expect(await rt.secretList(caseLabel)).toEqual([]);
  });

  it('works on another image store when asked, leaving the default store alone', async () => {
    const dir = await engineTempDir(engine.host);
    const scratch = rt.withStore({
      graphRoot: `${dir}/root`,
      runRoot: `${dir}/run`,
      tmpDir: `${dir}/tmp`,
      driver: 'vfs',
    });
    const tag = `localhost/${unique(engine.id, 'store')}:1`;
    const volume = unique(engine.id, 'storevol');
    const secret = unique(engine.id, 'storesec');
    try {
      expect(scratch.store).toEqual({
        graphRoot: `${dir}/root`,
        runRoot: `${dir}/run`,
        tmpDir: `${dir}/tmp`,
        driver: 'vfs',
      });
      const info = await scratch.info();
      expect(info).toMatchObject({ storageDriver: 'vfs', graphRoot: `${dir}/root`, runRoot: `${dir}/run` });
      expect(await scratch.imageExists(TEST_IMAGE)).toBe(false);
      await scratch.importImage('/', tag, {
        paths: [busyboxPath.slice(1)],
        dereference: true,
        changes: [`CMD ["${busyboxPath}", "echo", "hi"]`],
      });
      expect(await scratch.runCaptured({ image: tag, command: [], network: 'none', autoRemove: true })).toMatchObject({
        exitCode: 0,
        stdout: 'hi\n',
      });
      // libpod's own state (its "alive" marker) went to the store's tmp dir, not the default one.
      expect((await engine.host.run(['test', '-e', `${dir}/tmp/alive`])).exitCode).toBe(0);
      await scratch.volumeCreate(volume, labels);
      await scratch.secretCreate(secret, 'value', labels);
      const inventory = await scratch.storeInventory();
      expect(inventory.images.flatMap((i) => i.names)).toEqual([tag]);
      expect(inventory.volumes.map((v) => v.name)).toEqual([volume]);
      expect(inventory.secrets).toEqual([secret]);
      expect(inventory.containers).toEqual([]);
      expect(inventory.networks).toContain('podman');
      expect(await rt.imageExists(tag)).toBe(false);
      expect(await rt.volumeInspect(volume)).toBeUndefined();
      expect(await rt.imageExists(TEST_IMAGE)).toBe(true);
    } finally {
      await scratch.secretRemove(secret).catch(() => undefined);
      await scratch.volumeRemove(volume).catch(() => undefined);
      await scratch.imageRemove(tag).catch(() => undefined);
      await scratch.unshare(['rm', '-rf', '--', `${dir}/root`, `${dir}/run`, `${dir}/tmp`]).catch(() => undefined);
      await engine.host.run(['rm', '-rf', '--', dir]);
    }
  });
});
