import { errorMessage, MinoError } from '../common/errors.js';
import type { Host } from '../host/host.js';
import {
  hostEnv,
  hostPathExists,
  hostUid,
  hostUserName,
  readHostFile,
  removeHostFile,
  writeHostFile,
} from './host-files.js';
import {
  explicitDriver,
  rootlessGraphRoot,
  setStorageDriver,
  SYSTEM_STORAGE_CONFS,
  userStorageConfPath,
  type StorageEnv,
} from '../host/storage-conf.js';
import type { ContainerRuntime, StoreLocation } from '../runtime/container-runtime.js';
import { EngineError } from '../runtime/runtime-errors.js';
import { lastLines } from '../common/text.js';
import { probeOverlay, type OverlayProbeResult } from './overlay-probe.js';
import { decideStorage, splitInventory, type StorageAction, type StorageFacts } from './storage-decision.js';
import type { CheckLog } from './check-result.js';
import type { FixPolicy } from './host-checks.js';

/**
 * The `storage` check: rootless podman on vfs copies every image layer in full (a 1 GB base
 * image build takes minutes and disk use multiplies). When native overlay works for the user,
 * setup switches to it: before podman creates a fresh store, or by resetting a store that holds
 * only what mino rebuilds. A store with the user's own objects is never reset: mino then keeps its
 * images, containers and volumes in a store of its own on overlay (src/runtime/own-store.ts).
 */

const ID = 'storage';
const TITLE = 'Image storage';
const SLOW = 'every image layer is a full copy: builds are slow and use much more disk';

/** Inputs of {@link checkStorage}. */
export interface StorageCheckOptions {
  runtime: ContainerRuntime;
  /** The machine the engine runs on (its config files and environment). */
  host: Host;
  policy: FixPolicy;
  /** Parent image mino-base is built from (it counts as rebuildable). */
  baseFrom: string;
  /** The base image step is skipped (`--skip-image`): say how to rebuild what a switch removed. */
  skipImage?: boolean;
  /** mino's own image store (native Podman only; undefined: never make one). */
  own?: OwnStoreAccess;
}

/** What the storage check needs to know and do about mino's own image store. */
export interface OwnStoreAccess {
  /** The store setup recorded earlier, if any. */
  recorded: StoreLocation | undefined;
  /** Where a new store goes, given the user's `$XDG_RUNTIME_DIR`. */
  locate(runtimeDir: string): StoreLocation;
  /** Records that mino uses `store` from now on; returns the record's path. */
  record(store: StoreLocation): string;
}

interface ConfFile {
  path: string;
  text: string;
  parsed: Record<string, unknown>;
}

async function parseToml(path: string, text: string): Promise<Record<string, unknown>> {
  const { parse } = await import('smol-toml');
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new MinoError(`${path} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, {
      hint: `Fix or move ${path}; mino only edits a storage.conf it can parse`,
      cause: err,
    });
  }
}

async function readConf(host: Host, path: string): Promise<ConfFile | undefined> {
  const text = await readHostFile(host, path);
  const exists = text !== '' || (await hostPathExists(host, path));
  return exists ? { path, text, parsed: await parseToml(path, text) } : undefined;
}

async function storageEnv(host: Host, uid: number): Promise<StorageEnv & { runtimeDir?: string }> {
  const [home, user, xdgConfigHome, xdgDataHome, forcedConf, driverEnv, runtimeDir] = await Promise.all([
    hostEnv(host, 'HOME'),
    hostUserName(host),
    hostEnv(host, 'XDG_CONFIG_HOME'),
    hostEnv(host, 'XDG_DATA_HOME'),
    hostEnv(host, 'CONTAINERS_STORAGE_CONF'),
    hostEnv(host, 'STORAGE_DRIVER'),
    hostEnv(host, 'XDG_RUNTIME_DIR'),
  ]);
  if (!home) throw new MinoError('HOME is not set for the podman user');
  return { uid, user, home, xdgConfigHome, xdgDataHome, forcedConf, driverEnv, runtimeDir };
}

/** The driver of the existing store (`podman info`, not cached: it changes here). */
async function currentDriver(runtime: ContainerRuntime): Promise<string> {
  return (await runtime.info({ refresh: true })).storageDriver;
}

function summarize(items: readonly string[], max = 4): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/** Writes `driver = "overlay"` into the user's storage.conf; returns the text before ('' = no file). */
async function writeOverlayDriver(host: Host, path: string, conf: ConfFile | undefined): Promise<string | undefined> {
  const before = conf?.text ?? '';
  const after = setStorageDriver(before, 'overlay');
  await parseToml(path, after); // never write a file podman could not read
  await writeHostFile(host, path, after);
  return conf ? before : undefined;
}

async function restoreConf(host: Host, path: string, before: string | undefined): Promise<void> {
  if (before === undefined) await removeHostFile(host, path);
  else await writeHostFile(host, path, before);
}

/**
 * Checks (and with permission fixes) the storage driver of a rootless engine. Returns the
 * runtime the rest of setup works on: `options.runtime`, or the same engine on mino's own store.
 */
export async function checkStorage(log: CheckLog, options: StorageCheckOptions): Promise<ContainerRuntime> {
  const { runtime, host } = options;
  try {
    const uid = await hostUid(host);
    if (uid === 0) return runtime; // rootful: the engine line shows the driver; overlay is the default there
    const env = await storageEnv(host, uid);
    const confPath = userStorageConfPath(env);
    const userConf = await readConf(host, confPath);
    let systemConf: ConfFile | undefined;
    if (!env.forcedConf) {
      for (const path of SYSTEM_STORAGE_CONFS) {
        systemConf = await readConf(host, path);
        if (systemConf) break;
      }
    }
    const graphRoot = rootlessGraphRoot(env, userConf?.parsed, systemConf?.parsed);
    const fresh = !(await hostPathExists(host, graphRoot));
    if (options.own?.recorded) return await reportOwnStore(log, options, options.own.recorded, fresh);
    const facts: StorageFacts = {
      rootless: true,
      fresh,
      driver: fresh ? undefined : await currentDriver(runtime),
      explicit: explicitDriver(env, userConf, systemConf),
      overlay: 'unknown',
      inventory: undefined,
    };
    let probe: OverlayProbeResult | undefined;
    let action = decideStorage(facts);
    while (action.kind === 'probe' || action.kind === 'inventory') {
      if (action.kind === 'probe') {
        probe = await probeOverlay(runtime, host, graphRoot, env.runtimeDir);
        facts.overlay = probe.works ? 'works' : 'fails';
      } else {
        facts.inventory = splitInventory(await runtime.storeInventory(), options.baseFrom);
      }
      action = decideStorage(facts);
    }
    if (probe?.leftover) {
      log.add({
        id: 'storage.probe',
        title: 'Overlay probe',
        status: 'warn',
        detail: `could not remove ${probe.leftover}`,
        hint: `Remove it: podman unshare rm -rf ${probe.leftover}`,
      });
    }
    return await act(log, options, action, { facts, confPath, userConf, graphRoot, probe, runtimeDir: env.runtimeDir });
  } catch (err) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'warn',
      detail: errorMessage(err),
      hint: err instanceof MinoError ? err.hint : 'Run: podman info',
    });
    return runtime;
  }
}

/** The podman flags that reach mino's own store, for commands in hints. */
function ownStoreFlags(store: StoreLocation): string {
  return `--root ${store.graphRoot} --runroot ${store.runRoot}${store.tmpDir ? ` --tmpdir ${store.tmpDir}` : ''} --storage-driver ${store.driver}`;
}

/** Reports mino's own store recorded by an earlier setup, and returns the runtime on it. */
async function reportOwnStore(
  log: CheckLog,
  options: StorageCheckOptions,
  store: StoreLocation,
  userFresh: boolean,
): Promise<ContainerRuntime> {
  const own = options.runtime.withStore(store);
  // The user's store only when it exists: a first `podman info` would create it.
  const [ownDriver, userDriver] = await Promise.all([
    currentDriver(own).catch(
      (err: unknown) => `unusable (${err instanceof EngineError ? lastLines(err.stderr, 1) : errorMessage(err)})`,
    ),
    userFresh ? Promise.resolve(undefined) : currentDriver(options.runtime).catch(() => undefined),
  ]);
  const yours =
    userDriver === undefined
      ? 'your podman store is left as it is'
      : `your podman store (${userDriver}) is left as it is`;
  if (ownDriver !== store.driver) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'warn',
      detail: `mino's own store ${store.graphRoot}: podman reports ${ownDriver} instead of ${store.driver}`,
      hint: `Run: podman ${ownStoreFlags(store)} info`,
    });
    return own;
  }
  log.add({
    id: ID,
    title: TITLE,
    status: 'ok',
    detail: `${store.driver}, mino's own store ${store.graphRoot} (images, containers and volumes of mino); ${yours}`,
    ...(userDriver !== undefined && userDriver !== 'vfs'
      ? {
          hint: `Your store uses ${userDriver} now, so mino's own store is no longer needed; README ("mino's own image store") says how to remove it`,
        }
      : {}),
  });
  return own;
}

/**
 * Makes mino's own store for a user whose vfs store cannot be reset: checks that podman runs it
 * on overlay, then records it. Returns the runtime on it, or undefined (with a warning) when it
 * does not work.
 */
async function makeOwnStore(
  log: CheckLog,
  options: StorageCheckOptions,
  access: OwnStoreAccess,
  store: StoreLocation,
  foreign: number,
  leftBehind: readonly string[],
): Promise<ContainerRuntime | undefined> {
  const own = options.runtime.withStore(store);
  let driver: string;
  try {
    driver = await currentDriver(own);
  } catch (err) {
    driver = `an error (${err instanceof EngineError ? lastLines(err.stderr, 1) : errorMessage(err)})`;
  }
  if (driver !== store.driver) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'warn',
      detail: `vfs: ${SLOW}. mino's own store ${store.graphRoot} did not work: podman reported ${driver}`,
      hint: `Run: podman ${ownStoreFlags(store)} info`,
    });
    return undefined;
  }
  const recordPath = access.record(store);
  log.add({
    id: ID,
    title: TITLE,
    status: 'fixed',
    detail: `${store.driver}, mino's own store ${store.graphRoot} (your vfs store, with ${foreign} object(s) of yours, is left as it is; recorded in ${recordPath})`,
    ...(leftBehind.length > 0
      ? { hint: `mino no longer uses its objects in your store; to free their space: ${removeCommands(leftBehind)}` }
      : {}),
  });
  return own;
}

/** podman commands that remove the images and volumes of an inventory list (`image X`, `volume Y`). */
export function removeCommands(objects: readonly string[]): string {
  const named = (kind: string): string[] =>
    objects.filter((o) => o.startsWith(`${kind} `) && !o.endsWith('(untagged)')).map((o) => o.slice(kind.length + 1));
  const images = named('image');
  const volumes = named('volume');
  return (
    [
      images.length ? `podman rmi ${images.join(' ')}` : '',
      volumes.length ? `podman volume rm ${volumes.join(' ')}` : '',
    ]
      .filter(Boolean)
      .join('; ') || 'podman images'
  );
}

interface Context {
  /** The user's `$XDG_RUNTIME_DIR`, where mino's own store keeps its run root. */
  runtimeDir: string | undefined;
  facts: StorageFacts;
  confPath: string;
  userConf: ConfFile | undefined;
  graphRoot: string;
  probe: OverlayProbeResult | undefined;
}

async function act(
  log: CheckLog,
  options: StorageCheckOptions,
  action: StorageAction,
  ctx: Context,
): Promise<ContainerRuntime> {
  const { runtime, host, policy } = options;
  const { confPath } = ctx;
  const setDriver = `set driver = "overlay" under [storage] in ${confPath}`;
  switch (action.kind) {
    case 'ok':
      if (ctx.facts.driver !== undefined) log.add({ id: ID, title: TITLE, status: 'ok', detail: ctx.facts.driver });
      else if (ctx.facts.explicit)
        log.add({
          id: ID,
          title: TITLE,
          status: 'ok',
          detail: `${ctx.facts.explicit.driver} (set in ${ctx.facts.explicit.source})`,
        });
      return runtime;
    case 'explicit':
      log.add({
        id: ID,
        title: TITLE,
        status: 'info',
        detail: `vfs (set in ${action.source}): ${SLOW}`,
        hint: `If native overlay works here, set driver = "overlay" in ${action.source}, then run: podman system reset -f (removes all images, containers and volumes)`,
      });
      return runtime;
    case 'vfs-only':
      log.add({
        id: ID,
        title: TITLE,
        status: 'info',
        detail: `vfs, the only driver that works for this user (overlay: ${ctx.probe?.detail ?? 'not usable'}): ${SLOW}`,
        hint: 'fuse-overlayfs (package fuse-overlayfs) gives rootless podman overlay on older kernels; then run: mino setup',
      });
      return runtime;
    case 'configure': {
      const question = `Podman has no image store yet and would pick the slow vfs driver; native overlay works here. Use overlay (writes ${confPath})?`;
      if (!(await policy.mayFix(question))) {
        log.add({
          id: ID,
          title: TITLE,
          status: 'warn',
          detail: `no store yet; podman would pick vfs (${SLOW}), overlay works here`,
          hint: `${policy.fixHint} (sets driver = "overlay" in ${confPath} before podman creates the store)`,
        });
        return runtime;
      }
      const before = await writeOverlayDriver(host, confPath, ctx.userConf);
      const driver = await currentDriver(runtime).catch(() => undefined);
      if (driver === 'overlay') {
        log.add({
          id: ID,
          title: TITLE,
          status: 'fixed',
          detail: `overlay (driver = "overlay" in ${confPath}, set before podman created the store)`,
        });
      } else {
        await restoreConf(host, confPath, before);
        log.add({
          id: ID,
          title: TITLE,
          status: 'warn',
          detail: `podman still uses ${driver ?? 'an unknown driver'} after setting overlay; ${confPath} restored`,
          hint: 'Run: podman info',
        });
      }
      return runtime;
    }
    case 'keep': {
      const count = action.foreign.length;
      const access = options.own;
      const store = access && ctx.runtimeDir ? access.locate(ctx.runtimeDir) : undefined;
      const yourself = `To switch your own store instead (deletes ALL images, containers, volumes and secrets of this user; keep what you need first, e.g. podman save -o images.tar <image>, podman volume export -o vol.tar <volume>): ${setDriver}, then run: podman system reset -f && mino setup`;
      const detail = `vfs: ${SLOW}. Native overlay works here, but switching needs 'podman system reset', which would delete ${count} object(s) of yours: ${summarize(action.foreign)}`;
      if (!access || !store) {
        log.add({ id: ID, title: TITLE, status: 'warn', detail, hint: yourself });
        return runtime;
      }
      const question = `Podman stores images with the slow vfs driver, and your store holds ${count} object(s) of yours, so mino will not reset it. Keep mino's images, containers and volumes in a store of its own on overlay (${store.graphRoot})? Your store is not touched.`;
      if (!(await policy.mayFix(question))) {
        log.add({
          id: ID,
          title: TITLE,
          status: 'warn',
          detail,
          hint: `${policy.fixHint} (mino then keeps its images, containers and volumes in a store of its own on overlay, ${store.graphRoot}; yours is not touched). ${yourself}`,
        });
        return runtime;
      }
      return (
        (await makeOwnStore(log, options, access, store, count, ctx.facts.inventory?.rebuildable ?? [])) ?? runtime
      );
    }
    case 'switch': {
      const what =
        action.rebuildable.length > 0
          ? `removes ${summarize(action.rebuildable, 3)}; mino rebuilds them`
          : 'the store is empty';
      const question = `Podman stores images with the slow vfs driver; native overlay works here. Switch to overlay? (writes ${confPath} and runs 'podman system reset'; ${what})`;
      if (!(await policy.mayFix(question))) {
        log.add({
          id: ID,
          title: TITLE,
          status: 'warn',
          detail: `vfs: ${SLOW}; native overlay works here`,
          hint: `${policy.fixHint} (sets driver = "overlay" in ${confPath} and runs podman system reset -f; the store holds only what mino rebuilds)`,
        });
        return runtime;
      }
      const before = await writeOverlayDriver(host, confPath, ctx.userConf);
      try {
        await runtime.systemReset();
      } catch (err) {
        await restoreConf(host, confPath, before);
        const detail = err instanceof EngineError ? lastLines(err.stderr, 1) : errorMessage(err);
        log.add({
          id: ID,
          title: TITLE,
          status: 'warn',
          detail: `podman system reset failed: ${detail}; ${confPath} restored`,
          hint: 'Run: podman system reset -f, then mino setup',
        });
        return runtime;
      }
      const driver = await currentDriver(runtime).catch((err: unknown) => `no driver (${errorMessage(err)})`);
      if (driver === 'overlay') {
        const baseRemoved = action.rebuildable.some((r) => r.startsWith('image localhost/mino-base:'));
        log.add({
          id: ID,
          title: TITLE,
          status: 'fixed',
          detail: `overlay (driver = "overlay" in ${confPath}; vfs store reset${action.rebuildable.length ? `, ${action.rebuildable.length} mino object(s) to rebuild` : ''})`,
          ...(baseRemoved && options.skipImage
            ? { hint: 'Run: mino setup (without --skip-image) to rebuild localhost/mino-base' }
            : {}),
        });
        return runtime;
      }
      // The store is empty now either way: go back to what worked rather than leave podman broken.
      await restoreConf(host, confPath, before);
      await runtime.systemReset().catch(() => undefined);
      log.add({
        id: ID,
        title: TITLE,
        status: 'warn',
        detail: `podman used ${driver} after switching to overlay; ${confPath} restored, store reset (vfs)`,
        hint: 'Run: podman info',
      });
      return runtime;
    }
    default:
      return runtime;
  }
}
