import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../common/text.js';
import type { Host } from '../host/host.js';
import type { EngineClient, ImageClient } from '../runtime/container-runtime.js';
import type { BuildDir } from './build-dir.js';

/**
 * Builds the Debian parent image without a container registry: `debootstrap --variant=minbase`
 * from the host's apt mirror, then an import. It runs in the engine's user namespace
 * (`ContainerRuntime.unshare`: directly as root; rootless in the namespace podman stores images
 * in), with `container=lxc` when rootless so debootstrap bind-mounts device nodes instead of
 * calling mknod, which a user namespace forbids.
 */

/** Debian release the parent is made of. */
export const DEBIAN_SUITE = 'bookworm';
/** Repository of debootstrapped parents. */
const DEBOOTSTRAP_REPO = 'localhost/mino-debian';

/** `localhost/mino-debian:bookworm-<12 hex>`, keyed by suite, variant and mirror (so it is reused). */
export function debootstrapTag(mirror: string): string {
  const key = createHash('sha256').update(`${DEBIAN_SUITE}\0minbase\0${mirror}`).digest('hex').slice(0, 12);
  return `${DEBOOTSTRAP_REPO}:${DEBIAN_SUITE}-${key}`;
}

/** PATH for debootstrap: the sbin directories first. */
export const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The debootstrap command line (argument array, run in the engine's user namespace) for
 * `target` from `mirror`.
 */
export function debootstrapArgv(debootstrap: string, target: string, mirror: string, rootless: boolean): string[] {
  if (!/^https?:\/\/[^\s]+$/.test(mirror)) throw new MinoError(`Invalid apt mirror URL '${mirror}'`);
  // debootstrap calls chroot and friends from sbin, which a normal user's PATH often lacks.
  const env = ['env', `PATH=${SBIN_PATH}`, ...(rootless ? ['container=lxc'] : [])];
  return [...env, debootstrap, '--variant=minbase', DEBIAN_SUITE, target, mirror];
}

/** Path of debootstrap on the podman host, or undefined (normal users often lack /usr/sbin in PATH). */
export async function findDebootstrap(host: Host): Promise<string | undefined> {
  const script =
    'command -v debootstrap && exit 0; for p in /usr/sbin/debootstrap /sbin/debootstrap; do [ -x "$p" ] && echo "$p" && exit 0; done; exit 1';
  const r = await host.run(['sh', '-c', script]);
  const path = r.stdout.trim().split('\n')[0];
  return r.exitCode === 0 && path ? path : undefined;
}

/** Runs one step in the engine's user namespace; a failure carries the last lines of its output. */
async function step(runtime: Pick<EngineClient, 'unshare'>, argv: string[], what: string, tail = 20): Promise<void> {
  const r = await runtime.unshare(argv);
  if (r.exitCode !== 0) {
    throw new MinoError(`${what} failed (exit ${r.exitCode}):\n${lastLines(`${r.stdout}\n${r.stderr}`, tail)}`, {
      hint: `Check that this host reaches its apt mirror, then run 'mino setup' again (command: ${argv.join(' ')})`,
    });
  }
}

/**
 * Makes the parent image: debootstrap into `<dir>/rootfs`, make its root 0755 (a 0700 root breaks
 * non-root containers with `stat /bin/sh: permission denied`), and import it without the device
 * nodes (tar streamed from the user namespace into the import) as {@link debootstrapTag}.
 * Returns the tag.
 */
export async function debootstrapParent(
  runtime: Pick<EngineClient, 'unshare'> & ImageClient,
  dir: BuildDir,
  options: { debootstrap: string; mirror: string; rootless: boolean },
): Promise<string> {
  const { debootstrap, mirror, rootless } = options;
  // Files inside are owned by sub-uids when rootless: removing them needs the namespace too.
  dir.remover = async (path) => {
    await runtime.unshare(['rm', '-rf', '--', path]);
  };
  const rootfs = join(dir.path, 'rootfs');
  const tag = debootstrapTag(mirror);
  await step(runtime, debootstrapArgv(debootstrap, rootfs, mirror, rootless), 'debootstrap', 30);
  await step(runtime, ['chmod', '0755', rootfs], 'chmod of the root filesystem');
  await runtime.importImage(rootfs, tag, {
    inUserNamespace: true,
    numericOwner: true,
    exclude: ['./dev/*'],
    changes: ['CMD ["/bin/bash"]', `LABEL io.mino.debootstrap.suite=${DEBIAN_SUITE}`],
  });
  return tag;
}
