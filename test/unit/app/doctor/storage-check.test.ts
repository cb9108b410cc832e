import { describe, expect, it } from 'vitest';
import { CheckLog } from '../../../../src/app/doctor/check-result.js';
import { checkStorage } from '../../../../src/app/doctor/storage-check.js';
import type { FixPolicy } from '../../../../src/app/doctor/host-checks.js';
import { PodmanError } from '../../../../src/runtime/podman/podman-error.js';
import { FakeHost } from '../../../helpers/fake-host.js';
import { FAKE_INFO, FakeRuntime } from '../../../helpers/fake-runtime.js';

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
  const w: World = { host, runtime, store: undefined, overlayWorks: options.overlayWorks ?? true, resets: 0, confAtStoreCreation: undefined };
  const reach = (): { driver: string } => {
    if (!w.store) {
      w.confAtStoreCreation = host.files.get(CONF);
      w.store = { driver: /driver = "overlay"/.test(host.files.get(CONF) ?? '') ? 'overlay' : 'vfs' };
      host.dirs.add(GRAPH);
    }
    return w.store;
  };
  if (options.driver) reach().driver = options.driver;
  for (const name of options.images ?? []) runtime.addImage(name, name.includes('mino-probe') ? { labels: { 'io.mino.probe': 'true' } } : {});
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
    scratch.on('runCaptured', () => (w.overlayWorks
      ? { exitCode: 0, stdout: '', stderr: '' }
      : { exitCode: 126, stdout: '', stderr: 'Error: mounting overlay: operation not permitted' }));
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

async function run(w: World, allow: boolean) {
  const log = new CheckLog();
  const p = policy(allow);
  await checkStorage(log, { runtime: w.runtime, host: w.host, policy: p, baseFrom: 'docker.io/library/debian:bookworm-slim' });
  return { results: log.results.filter((r) => r.id === 'storage'), asked: p.asked };
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
    expect(scratch?.store).toMatchObject({ driver: 'overlay', graphRoot: expect.stringMatching(/^\/home\/ann\/\.local\/share\/containers\/mino-overlay-probe\.\w+\/root$/) });
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
    expect(w.host.files.get(CONF)).toBe('# mine\n[storage.options]\nadditionalimagestores = []\n\n[storage]\ndriver = "overlay"\n');
  });

  it('restores storage.conf when the reset fails', async () => {
    const w = world({ driver: 'vfs', images: [PROBE] });
    w.runtime.failWith('systemReset', new PodmanError(['system', 'reset'], 125, 'Error: a container is running'));
    const { results } = await run(w, true);
    expect(results).toMatchObject([{ status: 'warn', detail: expect.stringMatching(/reset failed: Error: a container is running.*restored/) }]);
    expect(w.host.files.has(CONF)).toBe(false);
  });

  it('never resets a store with images of the user: warns with the commands instead', async () => {
    const w = world({ driver: 'vfs', images: [PROBE, MINE] });
    const { results, asked } = await run(w, true);
    expect(asked).toEqual([]);
    expect(w.resets).toBe(0);
    expect(w.runtime.callNames()).not.toContain('systemReset');
    expect(w.host.files.has(CONF)).toBe(false);
    expect(results).toMatchObject([{ status: 'warn', detail: expect.stringMatching(/localhost\/mine:1/), hint: expect.stringMatching(/podman system reset -f/) }]);
  });

  it('says vfs is the only option when overlay does not work, changing nothing', async () => {
    const w = world({ driver: 'vfs', images: [PROBE], overlayWorks: false });
    const { results } = await run(w, true);
    expect(w.resets).toBe(0);
    expect(results).toMatchObject([{ status: 'info', detail: expect.stringMatching(/only driver.*operation not permitted/) }]);
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
