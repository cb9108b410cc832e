import { join } from 'node:path';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { errorMessage, MinoError } from '../common/errors.js';
import { formatBytes } from '../common/text.js';
import type { Host } from '../host/host.js';
import { minoPaths } from '../common/xdg-paths.js';
import { BASE_IMAGE_LATEST } from '../image/base-image-tag.js';
import { baseImageState, buildBaseImage, type DebootstrapPlan } from '../image/base-image.js';
import { forgetImageIndex } from '../image/image-index.js';
import { findDebootstrap } from '../image/debootstrap-parent.js';
import { hostDebianMirror } from '../image/host-apt-sources.js';
import { hostExtraCertificates } from '../image/host-ca-certificates.js';
import { builtinLayersDir } from '../image/layers-dir.js';
import { hostNpmRegistry } from '../image/npm-registry.js';
import type { CheckLog } from './check-result.js';
import type { FixPolicy } from './host-checks.js';
import { installPackages } from './privileged.js';

/** Where image build progress goes (the CLI prints it on stderr). */
export interface ImageProgress {
  /** One human line about what happens now. */
  say(text: string): void;
  /** Raw build output, line by line. */
  buildOutput(line: string): void;
}

/** Inputs of {@link checkBaseImage}. */
export interface BaseImageCheckOptions {
  runtime: ContainerRuntime;
  /** The machine the engine runs on (its apt mirror and debootstrap). */
  host: Host;
  policy: FixPolicy;
  /** Build or re-tag when allowed (setup); only report otherwise (status, setup --check). */
  fix: boolean;
  /** The engine is rootless (debootstrap then runs in `podman unshare`). */
  rootless: boolean;
  /** debootstrap is possible on this engine's host (native Linux podman). */
  debootstrapPossible: boolean;
  /** `image.base_from` from the config, when set. */
  baseFrom?: string;
  /** The engine on the user's own store when `runtime` is on mino's own store (a parent image may be there). */
  userRuntime?: ContainerRuntime;
  progress?: ImageProgress;
}

/** Id of the base image check's line. */
export const BASE_IMAGE_ID = 'image.base';
/** Title of the base image check's line. */
export const BASE_IMAGE_TITLE = 'Base image';
const ID = BASE_IMAGE_ID;
const TITLE = BASE_IMAGE_TITLE;

/** Finds (installing it with permission) debootstrap and the host's Debian mirror. */
async function debootstrapPlan(log: CheckLog, options: BaseImageCheckOptions): Promise<DebootstrapPlan | undefined> {
  const { host, policy } = options;
  if (!options.debootstrapPossible) return undefined;
  const mirror = await hostDebianMirror(host);
  if (!mirror) {
    log.add({
      id: 'image.debootstrap',
      title: 'debootstrap',
      status: 'fail',
      detail: 'no Debian mirror in /etc/apt/sources.list{,.d}',
      hint: 'debootstrap needs a Debian apt mirror; on other hosts make the parent image available (podman pull, or set image.base_from)',
    });
    return undefined;
  }
  let debootstrap = await findDebootstrap(host);
  if (!debootstrap) {
    if (
      !(await policy.mayFix(
        'The parent image cannot be pulled; debootstrap can build it from your apt mirror. Install debootstrap?',
      ))
    ) {
      log.add({
        id: 'image.debootstrap',
        title: 'debootstrap',
        status: 'fail',
        detail: 'not installed',
        hint: `${policy.fixHint} (installs debootstrap), or install the debootstrap package`,
      });
      return undefined;
    }
    const outcome = await installPackages(policy.root, ['debootstrap'], host);
    debootstrap = outcome.ok ? await findDebootstrap(host) : undefined;
    if (!debootstrap) {
      log.add({
        id: 'image.debootstrap',
        title: 'debootstrap',
        status: 'fail',
        detail: outcome.error ?? 'still not found after installing',
        hint: 'Install the debootstrap package as root, then run: mino setup --yes',
      });
      return undefined;
    }
    log.add({
      id: 'image.debootstrap',
      title: 'debootstrap',
      status: 'fixed',
      detail: `installed with ${outcome.manager}`,
    });
  }
  return { debootstrap, mirror, rootless: options.rootless };
}

/**
 * The "base image" step of setup/status: reports `localhost/mino-base:<hash>` as present,
 * missing or with a stale `latest`, lists tags of older versions, and (setup, with permission)
 * builds the image, debootstrapping its parent when no registry is reachable.
 */
export async function checkBaseImage(log: CheckLog, options: BaseImageCheckOptions): Promise<void> {
  const { runtime, policy } = options;
  let baseDir: string;
  try {
    baseDir = join(builtinLayersDir(), 'base');
  } catch (err) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'fail',
      detail: errorMessage(err),
      hint: err instanceof MinoError ? err.hint : undefined,
    });
    return;
  }
  const state = await baseImageState(runtime, baseDir);

  if (state.present) {
    const detail = `${state.tag}${state.sizeBytes ? ` (${formatBytes(state.sizeBytes)})` : ''}`;
    if (state.latestCurrent) {
      log.add({ id: ID, title: TITLE, status: 'ok', detail });
    } else if (options.fix) {
      await runtime.imageTag(state.tag, BASE_IMAGE_LATEST);
      forgetImageIndex(minoPaths().dataDir); // composed images now belong to another base
      log.add({ id: ID, title: TITLE, status: 'fixed', detail: `${detail}; ${BASE_IMAGE_LATEST} now points at it` });
    } else {
      log.add({
        id: ID,
        title: TITLE,
        status: 'warn',
        detail: `${detail}, but ${BASE_IMAGE_LATEST} is another image`,
        hint: policy.fixHint,
      });
    }
  } else if (!options.fix) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'warn',
      detail: `${state.tag} is missing`,
      hint: `${policy.fixHint} (builds it: a few minutes)`,
    });
  } else if (!(await policy.mayFix(`The mino-base image ${state.tag} is missing. Build it now (a few minutes)?`))) {
    log.add({
      id: ID,
      title: TITLE,
      status: 'fail',
      detail: `${state.tag} is missing`,
      hint: `${policy.fixHint} (builds it: a few minutes)`,
    });
  } else {
    try {
      const [npmRegistry, certificates] = await Promise.all([hostNpmRegistry(), hostExtraCertificates()]);
      const result = await buildBaseImage({
        runtime,
        baseDir,
        dataDir: minoPaths().dataDir,
        baseFrom: options.baseFrom,
        ...(options.userRuntime ? { userRuntime: options.userRuntime } : {}),
        debootstrap: () => debootstrapPlan(log, options),
        npmRegistry,
        certificates,
        say: (text) => options.progress?.say(text),
        onBuildOutput: (line) => options.progress?.buildOutput(line),
      });
      forgetImageIndex(minoPaths().dataDir); // composed images now belong to another base
      const parts = [
        `built ${result.tag} in ${result.buildSeconds} s`,
        `parent ${result.parent} (${result.parentSource}${result.debootstrapSeconds ? `, ${result.debootstrapSeconds} s` : ''})`,
        certificates.length ? `${certificates.length} extra CA certificate(s)` : '',
        result.sizeBytes ? formatBytes(result.sizeBytes) : '',
      ];
      log.add({ id: ID, title: TITLE, status: 'fixed', detail: parts.filter(Boolean).join(', ') });
    } catch (err) {
      log.add({
        id: ID,
        title: TITLE,
        status: 'fail',
        detail: errorMessage(err),
        hint: err instanceof MinoError ? err.hint : undefined,
      });
    }
  }

  if (state.stale.length > 0) {
    log.add({
      id: 'image.base.stale',
      title: 'Older base images',
      status: 'warn',
      detail: state.stale.join(', '),
      hint: `Left by older mino versions; remove with: podman rmi ${state.stale.join(' ')}`,
    });
  }
}
