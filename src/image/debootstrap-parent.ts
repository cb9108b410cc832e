import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../runtime/podman/podman-error.js';
import type { BuildDir } from './build-dir.js';

/**
 * Builds the Debian parent image without a container registry: `debootstrap --variant=minbase`
 * from the host's apt mirror, then `podman import`. As root it runs directly; rootless it runs
 * inside `podman unshare` (the user namespace podman stores images in), with `container=lxc` so
 * debootstrap bind-mounts device nodes instead of calling mknod, which a user namespace forbids.
 */

/** Debian release the parent is made of. */
export const DEBIAN_SUITE = 'bookworm';
/** Repository of debootstrapped parents. */
export const DEBOOTSTRAP_REPO = 'localhost/mino-debian';

/** `localhost/mino-debian:bookworm-<12 hex>`, keyed by suite, variant and mirror (so it is reused). */
export function debootstrapTag(mirror: string): string {
  const key = createHash('sha256').update(`${DEBIAN_SUITE}\0minbase\0${mirror}`).digest('hex').slice(0, 12);
  return `${DEBOOTSTRAP_REPO}:${DEBIAN_SUITE}-${key}`;
}

/** PATH for debootstrap: the sbin directories first. */
export const SBIN_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The argv prefix that runs a program as (namespaced) root for the engine's image storage. */
export function namespacePrefix(rootless: boolean): string[] {
  return rootless ? ['podman', 'unshare'] : [];
}

/** The debootstrap command line (argument array) for `target` from `mirror`. */
export function debootstrapArgv(debootstrap: string, target: string, mirror: string, rootless: boolean): string[] {
  if (!/^https?:\/\/[^\s]+$/.test(mirror)) throw new MinoError(`Invalid apt mirror URL '${mirror}'`);
  // debootstrap calls chroot and friends from sbin, which a normal user's PATH often lacks.
  const env = ['env', `PATH=${SBIN_PATH}`, ...(rootless ? ['container=lxc'] : [])];
  return [...namespacePrefix(rootless), ...env, debootstrap, '--variant=minbase', DEBIAN_SUITE, target, mirror];
}

/** Path of debootstrap on the podman host, or undefined (normal users often lack /usr/sbin in PATH). */
export async function findDebootstrap(runtime: ContainerRuntime): Promise<string | undefined> {
  const script = 'command -v debootstrap && exit 0; for p in /usr/sbin/debootstrap /sbin/debootstrap; do [ -x "$p" ] && echo "$p" && exit 0; done; exit 1';
  const r = await runtime.hostExec(['sh', '-c', script]);
  const path = r.stdout.trim().split('\n')[0];
  return r.exitCode === 0 && path ? path : undefined;
}

async function step(runtime: ContainerRuntime, argv: string[], what: string, tail = 20): Promise<void> {
  const r = await runtime.hostExec(argv);
  if (r.exitCode !== 0) {
    throw new MinoError(`${what} failed (exit ${r.exitCode}):\n${lastLines(`${r.stdout}\n${r.stderr}`, tail)}`, {
      hint: `Check that this host reaches its apt mirror, then run 'mino setup' again (command: ${argv.join(' ')})`,
    });
  }
}

/**
 * Makes the parent image: debootstrap into `<dir>/rootfs`, make its root 0755 (a 0700 root breaks
 * non-root containers with `stat /bin/sh: permission denied`), tar it without the device nodes,
 * and import it as {@link debootstrapTag}. Returns the tag.
 */
export async function debootstrapParent(
  runtime: ContainerRuntime, dir: BuildDir, options: { debootstrap: string; mirror: string; rootless: boolean },
): Promise<string> {
  const { debootstrap, mirror, rootless } = options;
  const ns = namespacePrefix(rootless);
  // Files inside are owned by sub-uids when rootless: removing them needs the namespace too.
  dir.removePrefix = ns;
  const rootfs = join(dir.path, 'rootfs');
  const tarball = join(dir.path, 'rootfs.tar');
  const tag = debootstrapTag(mirror);
  await step(runtime, debootstrapArgv(debootstrap, rootfs, mirror, rootless), 'debootstrap', 30);
  await step(runtime, [...ns, 'chmod', '0755', rootfs], 'chmod of the root filesystem');
  await step(runtime, [...ns, 'tar', '-C', rootfs, '--numeric-owner', '--exclude=./dev/*', '-cf', tarball, '.'], 'tar of the root filesystem');
  await step(runtime, [
    'podman', 'import', '-q',
    '--change', 'CMD ["/bin/bash"]',
    '--change', `LABEL io.mino.debootstrap.suite=${DEBIAN_SUITE}`,
    tarball, tag,
  ], 'podman import');
  return tag;
}
