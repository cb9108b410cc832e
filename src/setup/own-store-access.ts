import { minoPaths } from '../common/xdg-paths.js';
import { forgetImageIndex } from '../image/image-index.js';
import type { StoreLocation } from '../runtime/container-runtime.js';
import { ownStoreLocation, writeOwnStore } from '../runtime/own-store.js';
import type { OwnStoreAccess } from './storage-check.js';

/**
 * mino's own image store as setup and status see it, for the user of this process: the record
 * an earlier setup wrote, where a new store goes, and how to record one.
 */
export function ownStoreAccess(
  recorded: StoreLocation | undefined,
  env: NodeJS.ProcessEnv = process.env,
): OwnStoreAccess {
  return {
    recorded,
    locate: (runtimeDir) => ownStoreLocation(env, runtimeDir),
    record(store) {
      const path = writeOwnStore(store, env);
      // Composed images are remembered by store: those of podman's default store are not in this one.
      forgetImageIndex(minoPaths(env).dataDir);
      return path;
    },
  };
}
