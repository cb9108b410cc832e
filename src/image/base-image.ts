import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRuntime, ImageClient, LocalImage } from '../runtime/container-runtime.js';
import { errorMessage, MinoError } from '../common/errors.js';
import { EngineError } from '../runtime/runtime-errors.js';
import { lastLines } from '../common/text.js';
import { BASE_HASH_LABEL, BASE_IMAGE_LATEST, baseImageTag, staleBaseTags } from './base-image-tag.js';
import { withBuildDir } from './build-dir.js';
import type { PemCertificate } from './ca-certificates.js';
import { hashDirectory } from './content-hash.js';
import { DEBIAN_SUITE, debootstrapParent, debootstrapTag } from './debootstrap-parent.js';

/**
 * The mino-base image: where it stands on this engine (present, missing, stale tags of older
 * versions) and how it is built: parent image (configured, pulled, or debootstrapped), build
 * context (layers/base + the host's extra CA certificates), podman build, `latest` alias.
 */

/** Default parent (`image.base_from`): Debian bookworm slim from Docker Hub. */
export const DEFAULT_BASE_FROM = 'docker.io/library/debian:bookworm-slim';
/** Seconds a pull of the parent may take before mino falls back to debootstrap. */
const PULL_TIMEOUT_SECONDS = 60;

/** Where the base image stands on an engine. */
export interface BaseImageState {
  /** Full content hash of `layers/base/`. */
  hash: string;
  /** `localhost/mino-base:<12 hex>` for that hash. */
  tag: string;
  /** The tagged image exists. */
  present: boolean;
  /** `localhost/mino-base:latest` is that same image. */
  latestCurrent: boolean;
  /** mino-base tags of other hashes (older mino versions), for `mino cache` to remove. */
  stale: string[];
  /** Size of the tagged image, when present. */
  sizeBytes: number | undefined;
}

/** Reads the state of the base image built from `baseDir` (the `layers/base` directory): one podman call. */
export async function baseImageState(runtime: ImageClient, baseDir: string): Promise<BaseImageState> {
  const hash = hashDirectory(baseDir);
  const tag = baseImageTag(hash);
  const images = await runtime.imageList();
  const named = (name: string): LocalImage | undefined =>
    images.find((i) => i.names.some((n) => n === name || `localhost/${n}` === name));
  const current = named(tag);
  return {
    hash,
    tag,
    present: current !== undefined,
    latestCurrent: current !== undefined && current.id === named(BASE_IMAGE_LATEST)?.id,
    stale: staleBaseTags(
      images.flatMap((i) => i.names),
      tag,
    ),
    sizeBytes: current?.sizeBytes,
  };
}

/** How the parent image can be obtained when `base_from` is neither local nor pullable. */
export interface DebootstrapPlan {
  /** Path of debootstrap on the podman host. */
  debootstrap: string;
  /** The host's Debian mirror URL. */
  mirror: string;
  /** The engine is rootless (debootstrap then runs inside `podman unshare`). */
  rootless: boolean;
}

/** Inputs of {@link buildBaseImage}. */
export interface BuildBaseOptions {
  runtime: ContainerRuntime;
  /** The `layers/base` directory. */
  baseDir: string;
  /** `$XDG_DATA_HOME/mino`: scratch space lives under `builds/`. */
  dataDir: string;
  /** Parent image reference (`image.base_from`); default {@link DEFAULT_BASE_FROM}. */
  baseFrom?: string;
  /**
   * The engine on the user's own store when `runtime` is on mino's own store: a parent the user
   * has there (built, pulled or loaded by them) is copied into mino's store.
   */
  userRuntime?: ContainerRuntime;
  /** Called when the parent must be debootstrapped; undefined (or resolving undefined) = not possible. */
  debootstrap?: () => Promise<DebootstrapPlan | undefined>;
  /** The host's npm registry URL (undefined: npm's default). */
  npmRegistry?: string;
  /** Extra CA certificates to trust in the image. */
  certificates: readonly PemCertificate[];
  /** Human progress (one line each, no newline). */
  say: (text: string) => void;
  /** Raw `podman build` output lines. */
  onBuildOutput?: (line: string) => void;
}

/** What a build did, with timings for the report. */
export interface BuildBaseResult {
  tag: string;
  parent: string;
  parentSource: 'local' | 'pulled' | 'debootstrap-reused' | 'debootstrap';
  debootstrapSeconds?: number;
  buildSeconds: number;
  sizeBytes?: number;
}

const since = (t0: number): number => Math.round((Date.now() - t0) / 100) / 10;

async function resolveParent(
  options: BuildBaseOptions,
  dir: Parameters<typeof debootstrapParent>[1],
): Promise<Pick<BuildBaseResult, 'parent' | 'parentSource' | 'debootstrapSeconds'>> {
  const { runtime, say } = options;
  const baseFrom = options.baseFrom ?? DEFAULT_BASE_FROM;
  if (await runtime.imageExists(baseFrom)) return { parent: baseFrom, parentSource: 'local' };
  if (runtime.store && options.userRuntime && (await options.userRuntime.imageExists(baseFrom))) {
    say(`Copying ${baseFrom} from your podman store into mino's own store ${runtime.store.graphRoot}`);
    await runtime.copyImageFromDefaultStore(baseFrom);
    return { parent: baseFrom, parentSource: 'local' };
  }
  let pullError = 'it is a local name';
  if (!baseFrom.startsWith('localhost/')) {
    say(`Pulling ${baseFrom} (giving up after ${PULL_TIMEOUT_SECONDS} s)`);
    try {
      await runtime.imagePull(baseFrom, { timeoutMs: PULL_TIMEOUT_SECONDS * 1000 });
      return { parent: baseFrom, parentSource: 'pulled' };
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      pullError = lastLines(err.stderr, 1) || err.message;
    }
  }
  const plan = await options.debootstrap?.();
  if (!plan) {
    throw new MinoError(`Cannot get the parent image ${baseFrom}: ${pullError}`, {
      hint:
        `Make it available locally (podman pull/load${runtime.store ? " into your podman store: setup copies it into mino's own" : ''}), set image.base_from to a local Debian image, ` +
        'or install debootstrap and run mino setup on a Debian host so mino can build it from your apt mirror',
    });
  }
  const tag = debootstrapTag(plan.mirror);
  if (await runtime.imageExists(tag)) return { parent: tag, parentSource: 'debootstrap-reused' };
  say(
    `${baseFrom} cannot be pulled (${pullError}): building Debian ${DEBIAN_SUITE} with debootstrap from ${plan.mirror}${plan.rootless ? ' (rootless, in podman unshare)' : ''}`,
  );
  const t0 = Date.now();
  const parent = await debootstrapParent(runtime, dir, plan);
  const debootstrapSeconds = since(t0);
  say(`Imported ${parent} in ${debootstrapSeconds} s`);
  return { parent, parentSource: 'debootstrap', debootstrapSeconds };
}

/** Hint for a failed build, from its output. */
export function buildFailureHint(output: string): string {
  if (/SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|unable to get local issuer|certificate verify failed/i.test(output)) {
    return (
      'A proxy intercepts TLS and the build does not trust its CA: put the CA certificate in ' +
      '/usr/local/share/ca-certificates (or point NODE_EXTRA_CA_CERTS at it), then run: mino setup --yes'
    );
  }
  if (/Temporary failure resolving|Could not resolve|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Failed to fetch/i.test(output)) {
    return "The build cannot reach the apt mirror or the npm registry. Check the host's network and proxy settings (npm config get registry), then run: mino setup --yes";
  }
  if (/subuid|subgid|insufficient uids|newuidmap/i.test(output))
    return 'Rootless Podman is not configured (uid ranges). Run: mino setup';
  if (/no space left/i.test(output))
    return 'The disk is full: free space (podman image prune), then run: mino setup --yes';
  return 'Run mino setup --yes -v to see the full build output';
}

/** Writes the build context: the files of `layers/base` plus `certs/` with the extra CA certificates. */
export function writeBuildContext(contextDir: string, baseDir: string, certificates: readonly PemCertificate[]): void {
  cpSync(baseDir, contextDir, { recursive: true });
  const certs = join(contextDir, 'certs');
  mkdirSync(certs, { recursive: true });
  // Never empty, so `COPY certs/` always has something to copy.
  writeFileSync(join(certs, 'README'), "The host's extra CA certificates, added by mino setup.\n");
  for (const cert of certificates) writeFileSync(join(certs, `mino-${cert.id}.crt`), cert.pem);
}

/**
 * Builds `localhost/mino-base:<hash>` and points `latest` at it. Scratch files are removed
 * afterwards, also on failure and Ctrl-C.
 */
export async function buildBaseImage(options: BuildBaseOptions): Promise<BuildBaseResult> {
  const { runtime, say } = options;
  const hash = hashDirectory(options.baseDir);
  const tag = baseImageTag(hash);
  return withBuildDir(options.dataDir, async (dir) => {
    const parent = await resolveParent(options, dir);
    const context = join(dir.path, 'context');
    writeBuildContext(context, options.baseDir, options.certificates);
    say(`Building ${tag} from ${parent.parent} (a few minutes: Debian packages, Node.js, Claude Code)`);
    const t0 = Date.now();
    const buildArgs: Record<string, string> = { PARENT: parent.parent, MINO_BASE_HASH: hash };
    if (options.npmRegistry) buildArgs.NPM_REGISTRY = options.npmRegistry;
    try {
      await runtime.buildImage(context, tag, {
        buildArgs,
        labels: { [BASE_HASH_LABEL]: hash, 'io.mino.image': 'base' },
        onOutput: options.onBuildOutput,
        signal: dir.signal,
      });
    } catch (err) {
      const output = err instanceof EngineError ? err.stderr : errorMessage(err);
      throw new MinoError(`Building ${tag} failed. Last lines of the build:\n${output}`, {
        hint: buildFailureHint(output),
        cause: err,
      });
    }
    const buildSeconds = since(t0);
    await runtime.imageTag(tag, BASE_IMAGE_LATEST);
    return { tag, ...parent, buildSeconds, sizeBytes: (await runtime.imageInspect(tag))?.sizeBytes };
  });
}
