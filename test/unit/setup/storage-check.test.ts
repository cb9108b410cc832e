import { describe, expect, it } from 'vitest';
import { CheckLog } from '../../../src/setup/check-result.js';
import { checkStorage, removeCommands, type OwnStoreAccess } from '../../../src/setup/storage-check.js';
import type { StoreLocation } from '../../../src/runtime/container-runtime.js';
import type { FixPolicy } from '../../../src/setup/host-checks.js';
import { podmanError } from '../../../src/runtime/podman/podman-error.js';
import { FakeHost } from '../../helpers/fake-host.js';
import { FAKE_INFO, FakeRuntime } from '../../helpers/fake-runtime.js';

const HOME = '/home/ann';
const CONF = `${HOME}/.config/containers/storage.conf`;
const GRAPH = `${HOME}/.local/share/containers/storage`;

/**
 * A rootless podman user simulated on the fake runtime and host: the user's store comes into
 * existence (with the driver storage.conf names, else vfs) on the first call that reaches it,
 * `system reset` removes it, and scratch stores (the overlay probe) work or not.
 */
interface World {
  host: FakeHost;
  runtime: FakeRuntime;
  /** The user's store once it exists. */
  store: { driver: string } | undefined;
  overlayWorks: boolean;
  resets: number;
  /** storage.conf as it was when podman first reached the user's store. */
  confAtStoreCreation: string | undefined;
}

function world(options: { driver?: string; images?: string[]; overlayWorks?: boolean } = {}): World {
  const host = new FakeHost();
  host.env = { HOME, XDG_RUNTIME_DIR: '/run/user/1000' };
  host.dirs.add('/run/user/1000');
  host.files.set('/usr/bin/true', '');
  const runtime = new FakeRuntime();
  const w: World = {
    host,
    runtime,
    store: undefined,
    overlayWorks: options.overlayWorks ?? true,
    resets: 0,
    confAtStoreCreation: undefined,
  };
  const reach = (): { driver: string } => {
    if (!w.store) {
      w.confAtStoreCreation = host.files.get(CONF);
      w.store = { driver: /driver = "overlay"/.test(host.files.get(CONF) ?? '') ? 'overlay' : 'vfs' };
      host.dirs.add(GRAPH);
    }
    return w.store;
  };
  if (options.driver) reach().driver = options.driver;
  for (const name of options.images ?? [])
    runtime.addImage(name, name.includes('mino-probe') ? { labels: { 'io.mino.probe': 'true' } } : {});
  runtime.on('info', () => ({ ...FAKE_INFO, storageDriver: reach().driver }));
  runtime.on('systemReset', () => {
    w.resets += 1;
    w.store = undefined;
    host.dirs.delete(GRAPH);
    runtime.images = [];
  });
  runtime.onWithStore = (scratch) => {
    scratch.off('info').off('systemReset');
    scratch.engineInfo = { ...FAKE_INFO, storageDriver: 'overlay', nativeOverlayDiff: w.overlayWorks };
    scratch.on('runCaptured', () =>
      w.overlayWorks
        ? { exitCode: 0, stdout: '', stderr: '' }
        : { exitCode: 126, stdout: '', stderr: 'Error: mounting overlay: operation not permitted' },
    );
  };
  return w;
}

function policy(allow: boolean): FixPolicy & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fixHint: 'Run: mino setup --yes',
    root: { via: undefined, run: () => Promise.resolve({ stdout: '', stderr: 'no root', exitCode: 1, signal: null }) },
    mayFix(question) {
      asked.push(question);
      return Promise.resolve(allow);
    },
  };
}

const PROBE = 'localhost/mino-probe:1';
const MINE = 'localhost/mine:1';

async function run(w: World, allow: boolean, own?: OwnStoreAccess) {
  const log = new CheckLog();
  const p = policy(allow);
  const runtime = await checkStorage(log, {
    runtime: w.runtime,
    host: w.host,
    policy: p,
    baseFrom: 'docker.io/library/debian:bookworm-slim',
    own,
  });
  return { results: log.results.filter((r) => r.id === 'storage'), asked: p.asked, runtime };
}

const OWN: StoreLocation = {
  graphRoot: `${HOME}/.local/share/mino/containers/storage`,
  runRoot: '/run/user/1000/mino/storage',
  tmpDir: '/run/user/1000/mino/libpod',
  driver: 'overlay',
};

/** Own-store access that records into an array instead of a file. */
function ownAccess(recorded?: StoreLocation): OwnStoreAccess & { written: StoreLocation[]; locatedWith: string[] } {
  const written: StoreLocation[] = [];
  const locatedWith: string[] = [];
  return {
    recorded,
    written,
    locatedWith,
    locate(runtimeDir) {
      locatedWith.push(runtimeDir);
      return OWN;
    },
    record(store) {
      written.push(store);
      return `${HOME}/.local/share/mino/containers/store.json`;
    },
  };
}

describe('checkStorage', () => {
  it('writes driver = "overlay" for a fresh user before any podman call creates the store', async () => {
    const w = world();
    const { results } = await run(w, true);
    expect(results).toMatchObject([{ status: 'fixed' }]);
    expect(w.host.files.get(CONF)).toBe('[storage]\ndriver = "overlay"\n');
    expect(w.store?.driver).toBe('overlay');
    expect(w.confAtStoreCreation).toBe('[storage]\ndriver = "overlay"\n');
  });

  it('probes overlay in a scratch store next to the real one, and removes it', async () => {
    const w = world();
    await run(w, true);
    const [scratch] = w.runtime.scratchStores;
    expect(scratch?.store).toMatchObject({
      driver: 'overlay',
      graphRoot: expect.stringMatching(/^\/home\/ann\/\.local\/share\/containers\/mino-overlay-probe\.\w+\/root$/),
    });
    expect(scratch?.store?.runRoot).toMatch(/^\/run\/user\/1000\/mino-overlay-probe\.\w+\/run$/);
    const scratchCalls = w.runtime.calls.filter((c) => c.store !== undefined).map((c) => c.method);
    expect(scratchCalls).toEqual(['info', 'importImage', 'runCaptured', 'unshare', 'unshare']);
    expect([...w.host.dirs].filter((d) => d.includes('mino-overlay-probe'))).toEqual([]);
  });

  it('only reports on a fresh user without permission (status, --check)', async () => {
    const w = world();
    const { results } = await run(w, false);
    expect(results).toMatchObject([{ status: 'warn', hint: expect.stringMatching(/mino setup/) }]);
    expect(w.host.files.has(CONF)).toBe(false);
    expect(w.store).toBeUndefined();
  });

  it('switches a vfs store holding only mino images: writes the driver, then resets', async () => {
    const w = world({ driver: 'vfs', images: [PROBE] });
    w.host.files.set(CONF, '# mine\n[storage.options]\nadditionalimagestores = []\n');
    const { results, asked } = await run(w, true);
    expect(asked).toHaveLength(1);
    expect(w.resets).toBe(1);
    expect(results).toMatchObject([{ status: 'fixed', detail: expect.stringMatching(/overlay/) }]);
    expect(w.host.files.get(CONF)).toBe(
      '# mine\n[storage.options]\nadditionalimagestores = []\n\n[storage]\ndriver = "overlay"\n',
    );
  });

  it('restores storage.conf when the reset fails', async () => {
    const w = world({ driver: 'vfs', images: [PROBE] });
    w.runtime.failWith('systemReset', podmanError(['system', 'reset'], 125, 'Error: a container is running'));
    const { results } = await run(w, true);
    expect(results).toMatchObject([
      { status: 'warn', detail: expect.stringMatching(/reset failed: Error: a container is running.*restored/) },
    ]);
    expect(w.host.files.has(CONF)).toBe(false);
  });

  it('never resets a store with images of the user: warns with the commands instead', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const { results, asked } = await run(w, true);
    expect(asked).toEqual([]);
    expect(w.resets).toBe(0);
    expect(w.runtime.callNames()).not.toContain('systemReset');
    expect(w.host.files.has(CONF)).toBe(false);
    expect(results).toMatchObject([
      {
        status: 'warn',
        detail: expect.stringMatching(/localhost\/mine:1/),
        hint: expect.stringMatching(/podman system reset -f/),
      },
    ]);
  });

  it('says vfs is the only option when overlay does not work, changing nothing', async () => {
    const w = world({ driver: 'vfs', images: [PROBE], overlayWorks: false });
    const { results } = await run(w, true);
    expect(w.resets).toBe(0);
    expect(results).toMatchObject([
      { status: 'info', detail: expect.stringMatching(/only driver.*operation not permitted/) },
    ]);
  });

  it('leaves a vfs driver the user set in storage.conf', async () => {
    const w = world({ driver: 'vfs' });
    w.host.files.set(CONF, '[storage]\ndriver = "vfs"\n');
    const { results, asked } = await run(w, true);
    expect(asked).toEqual([]);
    expect(results).toMatchObject([{ status: 'info', detail: expect.stringMatching(/set in/) }]);
    expect(w.runtime.scratchStores).toEqual([]);
  });

  it('reports overlay as ok without probing', async () => {
    const w = world({ driver: 'overlay' });
    const { results } = await run(w, true);
    expect(results).toMatchObject([{ status: 'ok', detail: 'overlay' }]);
    expect(w.runtime.scratchStores).toEqual([]);
  });

  it('leaves a rootful engine alone', async () => {
    const w = world({ driver: 'vfs' });
    w.host.uid = 0;
    const { results } = await run(w, true);
    expect(results).toEqual([]);
    expect(w.runtime.calls).toEqual([]);
  });
});

describe('removeCommands', () => {
  it('turns inventory entries into podman commands, leaving untagged images out', () => {
    expect(
      removeCommands([
        'image localhost/mino-base:abc',
        'image 0123456789ab (untagged)',
        'volume mino-cache-npm-1',
        'image localhost/mino-probe:1',
        'secret mino-x',
      ]),
    ).toBe('podman rmi localhost/mino-base:abc localhost/mino-probe:1; podman volume rm mino-cache-npm-1');
    expect(removeCommands(['secret mino-x'])).toBe('podman images');
  });
});

describe("checkStorage: mino's own store", () => {
  it('makes one for a vfs store with images of the user: records it and returns the runtime on it', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const own = ownAccess();
    const { results, asked, runtime } = await run(w, true, own);
    expect(asked).toEqual([expect.stringMatching(/store of its own on overlay.*Your store is not touched/)]);
    expect(own.locatedWith).toEqual(['/run/user/1000']);
    expect(own.written).toEqual([OWN]);
    expect(runtime.store).toEqual(OWN);
    expect(results).toMatchObject([
      {
        status: 'fixed',
        detail: expect.stringMatching(
          /^overlay, mino's own store .*\/mino\/containers\/storage .*1 object\(s\) of yours.*left as it is/,
        ),
        hint: 'mino no longer uses its objects in your store; to free their space: podman rmi localhost/mino-probe:1',
      },
    ]);
    // The user's store: never reset, its config never written, its images untouched.
    expect(w.resets).toBe(0);
    expect(w.runtime.callNames()).not.toContain('systemReset');
    expect(w.host.files.has(CONF)).toBe(false);
    expect(w.runtime.images.flatMap((i) => i.names)).toEqual([PROBE, MINE]);
    // On the own store, only `info` (is it overlay?): images come later, from setup's next steps.
    expect(w.runtime.calls.filter((c) => c.store === OWN).map((c) => c.method)).toEqual(['info']);
  });

  it('only suggests it without permission (status, --check): nothing recorded, the user store stays in use', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const own = ownAccess();
    const { results, runtime } = await run(w, false, own);
    expect(own.written).toEqual([]);
    expect(runtime).toBe(w.runtime);
    expect(results).toMatchObject([
      {
        status: 'warn',
        detail: expect.stringMatching(/localhost\/mine:1/),
        hint: expect.stringMatching(
          /mino setup --yes \(mino then keeps its images, containers and volumes in a store of its own.*podman system reset -f/,
        ),
      },
    ]);
    expect(w.runtime.scratchStores.map((s) => s.store)).not.toContainEqual(OWN);
  });

  it('records nothing when podman does not run the new store on overlay', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const onWithStore = w.runtime.onWithStore!;
    w.runtime.onWithStore = (scratch) => {
      onWithStore(scratch);
      if (scratch.store === OWN)
        scratch.failWith('info', podmanError(['info'], 125, 'Error: kernel does not support overlay fs'));
    };
    const own = ownAccess();
    const { results, runtime } = await run(w, true, own);
    expect(own.written).toEqual([]);
    expect(runtime).toBe(w.runtime);
    expect(results).toMatchObject([
      {
        status: 'warn',
        detail: expect.stringMatching(/did not work.*kernel does not support overlay fs/),
        hint: expect.stringMatching(/--root .*--storage-driver overlay info/),
      },
    ]);
  });

  it('is not needed when the store holds only what mino rebuilds: that store is switched instead', async () => {
    const w = world({ driver: 'vfs', images: [PROBE] });
    const own = ownAccess();
    const { runtime } = await run(w, true, own);
    expect(w.resets).toBe(1);
    expect(own.written).toEqual([]);
    expect(runtime).toBe(w.runtime);
  });

  it('reports a recorded store without probing or listing the user store, and returns the runtime on it', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const own = ownAccess(OWN);
    const { results, runtime, asked } = await run(w, true, own);
    expect(asked).toEqual([]);
    expect(runtime.store).toEqual(OWN);
    expect(results).toMatchObject([
      {
        status: 'ok',
        detail: expect.stringMatching(/^overlay, mino's own store .*your podman store \(vfs\) is left as it is/),
      },
    ]);
    expect(results[0]?.hint).toBeUndefined();
    expect(w.runtime.callNames()).not.toContain('storeInventory');
    expect(w.runtime.scratchStores.map((s) => s.store)).toEqual([OWN]);
    expect(own.written).toEqual([]);
  });

  it('says a recorded store is no longer needed once the user store uses overlay', async () => {
    const w = world({ driver: 'overlay' });
    const { results, runtime } = await run(w, true, ownAccess(OWN));
    expect(runtime.store).toEqual(OWN);
    expect(results).toMatchObject([
      { status: 'ok', hint: expect.stringMatching(/uses overlay now.*no longer needed.*README/) },
    ]);
  });

  it('never creates the user store to report it (no podman call on it when it does not exist)', async () => {
    const w = world();
    const { results } = await run(w, true, ownAccess(OWN));
    expect(w.store).toBeUndefined();
    expect(w.runtime.calls.filter((c) => c.store === undefined)).toEqual([]);
    expect(results).toMatchObject([
      { status: 'ok', detail: expect.stringMatching(/your podman store is left as it is/) },
    ]);
  });
});
