import { MinoError } from '../common/errors.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { validateImageRef } from '../runtime/validate.js';

/**
 * `mino setup --engine NAME` and `mino engine add`: is the engine there, is it Podman, is it
 * recent enough, and does it have the session image (shipped from this machine when not: a
 * `podman save | podman load` stream, much faster than building it there; no registry needed).
 */

/** Oldest Podman a remote engine may run (keep-id with uid/gid, `--userns`, volumes as we use them). */
const MIN_ENGINE_PODMAN = '4.1.0';

/** What the check learnt. */
export interface EngineFacts {
  version: string;
  rootless: boolean;
}

function versionAtLeast(version: string, min: string): boolean {
  const parts = (v: string): number[] =>
    v
      .split(/[.-]/)
      .slice(0, 3)
      .map((p) => Number.parseInt(p, 10) || 0);
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Connects to the engine (one call) and checks its version; throws a clear error otherwise. */
export async function checkEngine(runtime: ContainerRuntime, name: string): Promise<EngineFacts> {
  const info = await runtime.info({ refresh: true });
  if (!versionAtLeast(info.version, MIN_ENGINE_PODMAN)) {
    throw new MinoError(`Engine ${name} runs Podman ${info.version}; mino needs ${MIN_ENGINE_PODMAN} or newer`, {
      hint: `Upgrade Podman on the engine's host, or remove the engine: mino engine remove ${name}`,
    });
  }
  if (!info.rootless) {
    throw new MinoError(`Engine ${name} is a rootful Podman; mino supports rootless remote engines only for now`, {
      hint: "Use the socket of a normal user's `podman system service` on that host",
    });
  }
  return { version: info.version, rootless: info.rootless };
}

/** How the image got there. */
export type ImageArrival = 'present' | 'shipped';

/**
 * Makes sure `image` is on the engine: there already, or shipped from this machine's engine
 * (`local`). Throws when neither has it.
 */
export async function ensureEngineImage(
  remote: ContainerRuntime,
  local: ContainerRuntime,
  image: string,
  name: string,
): Promise<ImageArrival> {
  validateImageRef(image);
  if (await remote.imageExists(image)) return 'present';
  if (!(await local.imageExists(image))) {
    throw new MinoError(`${image} is neither on engine ${name} nor on this machine`, {
      hint: 'Build it here first (mino setup), then run: mino setup --engine NAME again',
    });
  }
  await remote.copyImageFromDefaultStore(image);
  return 'shipped';
}
