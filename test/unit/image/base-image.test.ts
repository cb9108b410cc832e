import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BASE_IMAGE_LATEST, baseImageTag } from '../../../src/image/base-image-tag.js';
import { baseImageState, buildBaseImage, DEFAULT_BASE_FROM } from '../../../src/image/base-image.js';
import { hashDirectory } from '../../../src/image/content-hash.js';
import { debootstrapTag } from '../../../src/image/debootstrap-parent.js';
import { builtinLayersDir } from '../../../src/image/layers-dir.js';
import { podmanError } from '../../../src/runtime/podman/podman-error.js';
import { FakeRuntime } from '../../helpers/fake-runtime.js';

const BASE_DIR = join(builtinLayersDir(), 'base');
const TAG = baseImageTag(hashDirectory(BASE_DIR));
const MIRROR = 'http://deb.example/debian';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mino-base-unit-'));
  dirs.push(d);
  return d;
}

describe('baseImageState', () => {
  it('tells present, current latest and stale tags apart from one image list', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(TAG, { names: [TAG, BASE_IMAGE_LATEST], sizeBytes: 1_080_000_000 });
    runtime.addImage('localhost/mino-base:0123456789ab');
    const state = await baseImageState(runtime, BASE_DIR);
    expect(state).toMatchObject({
      tag: TAG,
      present: true,
      latestCurrent: true,
      stale: ['localhost/mino-base:0123456789ab'],
      sizeBytes: 1_080_000_000,
    });
    expect(runtime.callNames()).toEqual(['imageList']);
  });

  it('sees a latest that points at another image, and a missing image', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(TAG);
    runtime.addImage(BASE_IMAGE_LATEST);
    expect(await baseImageState(runtime, BASE_DIR)).toMatchObject({ present: true, latestCurrent: false });
    runtime.images = [];
    expect(await baseImageState(runtime, BASE_DIR)).toMatchObject({
      present: false,
      latestCurrent: false,
      stale: [],
      sizeBytes: undefined,
    });
  });
});

describe('buildBaseImage', () => {
  const options = (runtime: FakeRuntime, data: string, rootless = true) => ({
    runtime,
    baseDir: BASE_DIR,
    dataDir: data,
    certificates: [],
    say: () => undefined,
    debootstrap: () => Promise.resolve({ debootstrap: '/usr/sbin/debootstrap', mirror: MIRROR, rootless }),
  });

  it('builds on a local parent without pulling, and points latest at the new image', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(DEFAULT_BASE_FROM);
    const result = await buildBaseImage(options(runtime, dataDir()));
    expect(result).toMatchObject({ tag: TAG, parent: DEFAULT_BASE_FROM, parentSource: 'local', sizeBytes: 1_000_000 });
    expect(runtime.callNames()).toEqual(['imageExists', 'buildImage', 'imageTag', 'imageInspect']);
    const [, tag, build] = runtime.callsTo('buildImage')[0]!;
    expect(tag).toBe(TAG);
    expect(build?.buildArgs).toMatchObject({ PARENT: DEFAULT_BASE_FROM });
    expect(runtime.findImage(BASE_IMAGE_LATEST)?.names).toContain(TAG);
  });

  it("on mino's own store: copies a parent the user has in their podman store instead of pulling", async () => {
    const user = new FakeRuntime();
    user.addImage('localhost/my-debian:12');
    const own = user.withStore({
      graphRoot: '/home/ann/.local/share/mino/containers/storage',
      runRoot: '/run/user/1000/mino/storage',
      driver: 'overlay',
    }) as FakeRuntime;
    const said: string[] = [];
    const result = await buildBaseImage({
      ...options(own, dataDir()),
      baseFrom: 'localhost/my-debian:12',
      userRuntime: user,
      say: (t: string) => said.push(t),
    });
    expect(result).toMatchObject({ parent: 'localhost/my-debian:12', parentSource: 'local' });
    expect(own.callsTo('copyImageFromDefaultStore')).toEqual([['localhost/my-debian:12']]);
    expect(own.callsTo('imagePull')).toEqual([]);
    expect(said[0]).toBe(
      "Copying localhost/my-debian:12 from your podman store into mino's own store /home/ann/.local/share/mino/containers/storage",
    );
  });

  it('without a registry: gives the pull a time limit, then debootstraps in the user namespace and streams the import', async () => {
    const runtime = new FakeRuntime();
    const data = dataDir();
    const result = await buildBaseImage(options(runtime, data));
    expect(result).toMatchObject({ parentSource: 'debootstrap', parent: debootstrapTag(MIRROR) });
    expect(runtime.callsTo('imagePull')).toEqual([[DEFAULT_BASE_FROM, { timeoutMs: 60_000 }]]);
    const unshared = runtime.callsTo('unshare').map(([argv]) => argv);
    expect(unshared[0]).toEqual(
      expect.arrayContaining(['container=lxc', '/usr/sbin/debootstrap', '--variant=minbase', MIRROR]),
    );
    expect(unshared[1]?.slice(0, 2)).toEqual(['chmod', '0755']);
    // The scratch directory, sub-uid files and all, is removed inside the namespace afterwards.
    expect(unshared[2]?.slice(0, 3)).toEqual(['rm', '-rf', '--']);
    const [[rootfs, parentTag, importOptions]] = runtime.callsTo('importImage') as [
      [string, string, Record<string, unknown>],
    ];
    expect(rootfs).toMatch(/\/builds\/\d+\.\d+\.[0-9a-f-]+\/rootfs$/);
    expect(parentTag).toBe(debootstrapTag(MIRROR));
    expect(importOptions).toMatchObject({ inUserNamespace: true, numericOwner: true, exclude: ['./dev/*'] });
    expect(readdirSync(join(data, 'builds'))).toEqual([]);
  });

  it('reuses a debootstrapped parent, and says why the pull failed when nothing else works', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(debootstrapTag(MIRROR));
    expect(await buildBaseImage(options(runtime, dataDir()))).toMatchObject({ parentSource: 'debootstrap-reused' });
    expect(runtime.callNames()).not.toContain('unshare');

    const offline = new FakeRuntime();
    offline.failWith('imagePull', podmanError(['pull'], 124, 'no answer within 60 s'));
    const err = await buildBaseImage({
      ...options(offline, dataDir()),
      debootstrap: () => Promise.resolve(undefined),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`Cannot get the parent image ${DEFAULT_BASE_FROM}: no answer within 60 s`);
  });

  it('keeps the build output of a failed build and a hint', async () => {
    const runtime = new FakeRuntime();
    runtime.addImage(DEFAULT_BASE_FROM);
    runtime.failWith('buildImage', podmanError(['build'], 1, 'npm error code SELF_SIGNED_CERT_IN_CHAIN'));
    const data = dataDir();
    const err = (await buildBaseImage(options(runtime, data)).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toMatch(/failed\. Last lines of the build:\nnpm error code SELF_SIGNED_CERT_IN_CHAIN/);
    expect(err.hint).toMatch(/ca-certificates/);
    expect(runtime.callNames()).not.toContain('imageTag');
    expect(existsSync(join(data, 'builds')) ? readdirSync(join(data, 'builds')) : []).toEqual([]);
  });
});
