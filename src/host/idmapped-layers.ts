import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { errnoCode } from '../common/errno.js';
import { SYSTEM_STORAGE_CONFS } from './storage-conf.js';

/**
 * A workaround for rootful podman 4.3 (containers/storage) on kernels with idmapped mounts: it
 * mounts image layers through idmapped lower directories, and that fails ("creating overlay mount
 * … permission denied"; the kernel logs "overlayfs: failed to resolve …/mapped/0/l/…: -13") for a
 * user namespace whose id map has more than one range — exactly the map of a rootful mino session
 * (the image user on the project owner, the rest on an unprivileged range). containers/storage
 * records whether to use them in a probe file of its run root, on tmpfs; naming it "false"
 * makes podman use its older path (a chown-ed copy of the layers per id map, made once), which
 * works. The probe file comes back "true" after a reboot, so a rootful run checks it each time
 * (one rename at most).
 */

/** Run root of rootful podman (storage.conf `runroot` default). */
export const ROOTFUL_RUN_ROOT = '/run/containers/storage';

/**
 * The run root rootful podman uses: `runroot` of the storage.conf it reads
 * (`CONTAINERS_STORAGE_CONF`, else the system files), else {@link ROOTFUL_RUN_ROOT}.
 */
export function rootfulRunRoot(env: NodeJS.ProcessEnv = process.env): string {
  const files = env.CONTAINERS_STORAGE_CONF ? [env.CONTAINERS_STORAGE_CONF] : SYSTEM_STORAGE_CONFS;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const runroot = (parse(text) as { storage?: { runroot?: unknown } }).storage?.runroot;
      return typeof runroot === 'string' && runroot.startsWith('/') ? runroot : ROOTFUL_RUN_ROOT;
    } catch {
      return ROOTFUL_RUN_ROOT;
    }
  }
  return ROOTFUL_RUN_ROOT;
}

/** Turns idmapped lower layers off for rootful podman; true when it changed something. */
export function disableIdmappedLowerLayers(runRoot: string = rootfulRunRoot()): boolean {
  const dir = join(runRoot, 'overlay');
  try {
    renameSync(join(dir, 'idmapped-lower-dir-true'), join(dir, 'idmapped-lower-dir-false'));
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}
