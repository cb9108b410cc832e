import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinoError } from '../common/errors.js';
import { minoPaths } from '../common/xdg-paths.js';
import { withFileLockAsync } from '../common/file-lock.js';
import { removeDeadBuildDirs, newBuildDirName } from '../image/build-dir.js';
import { OutputTail, parseBuildLine, type BuildEvent } from '../image/build-output.js';
import { planComposition, type CompositionPlan } from '../layer/compose-plan.js';
import type { ResolvedLayer } from '../layer/resolve-layers.js';
import type { ImageClient } from '../runtime/container-runtime.js';
import { EngineError } from '../runtime/runtime-errors.js';

/**
 * Use case: make sure the image for a set of layers exists, building it when needed.
 * - No layer needs a build (only `[user_install]`/`[env]`): the base image, no podman call.
 * - The composed image exists: reused after one `podman image exists`.
 * - Otherwise it is built under a per-image lock (two `mino run`s build it once: the second
 *   waits, then finds the image), from a build context in `$XDG_DATA_HOME/mino/builds/<uuid>`
 *   that is removed afterwards, also on failure, Ctrl-C or SIGTERM.
 */

/** Options of {@link ensureComposedImage}. */
export interface ComposeImageOptions {
  /** Base image reference (e.g. the local `mino-base` tag). */
  baseImageRef: string;
  /** Its full image ID; the composed tag is keyed by it. */
  baseImageId: string;
  /** Resolved layers in `--layers` order. */
  layers: readonly ResolvedLayer[];
  /** Build progress: `STEP n/m` steps, output lines, waiting for another build. */
  onProgress?: (event: BuildEvent) => void;
  /** Aborts waiting or building. */
  signal?: AbortSignal;
  /** mino's data directory (default `$XDG_DATA_HOME/mino`); build contexts and locks go in `builds/`. */
  dataDir?: string;
  /** Extra labels on a built image (not part of the hash). */
  labels?: Record<string, string>;
  /** How long to wait for another process's build of the same image (default 30 minutes). */
  lockTimeoutMs?: number;
  /** Turn SIGINT/SIGTERM into an orderly abort while waiting or building (default true). */
  handleSignals?: boolean;
  /** Plan only: report the image and whether it would be built, build nothing. */
  dryRun?: boolean;
}

/** The image to run and what to pass with it. */
export interface ComposedImage {
  /** Image reference to run: the composed tag, or the base when nothing needed building. */
  image: string;
  /** True when a composed image is used (false: base image plus run-time layer env). */
  composed: boolean;
  /** True when this call built the image (with `dryRun`: when it would). */
  built: boolean;
  /** Content hash of the composition (composed only). */
  hash?: string;
  /** Environment to pass at run time (see runtimeLayerEnv). */
  env: Record<string, string>;
}

/** Exit code of a build interrupted by a signal (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

/** Ensures the image for `options.layers` on the base exists; see the module comment. */
export async function ensureComposedImage(runtime: ImageClient, options: ComposeImageOptions): Promise<ComposedImage> {
  const plan = planComposition(options);
  if (!plan.needsBuild) return { image: plan.image, composed: false, built: false, env: plan.runtimeEnv };
  const result = (built: boolean): ComposedImage => ({
    image: plan.image,
    composed: true,
    built,
    hash: plan.hash,
    env: plan.runtimeEnv,
  });
  if (await runtime.imageExists(plan.image)) return result(false);
  if (options.dryRun) return result(true);

  const dataDir = options.dataDir ?? minoPaths().dataDir;
  const buildsDir = join(dataDir, 'builds');
  mkdirSync(buildsDir, { recursive: true, mode: 0o700 });
  // The contexts of composes that were killed outright (kill -9) go now; one readdir.
  removeDeadBuildDirs(dataDir);
  const controller = new AbortController();
  const abort = (): void => controller.abort(new MinoError('Image build interrupted', { exitCode: EXIT_INTERRUPTED }));
  const onExternalAbort = (): void => abort();
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (options.signal?.aborted) abort();
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', abort);
    process.on('SIGTERM', abort);
  }
  try {
    return await withFileLockAsync(
      join(buildsDir, `${plan.hash}.lock`),
      async () => {
        // Another process may have built it between our check and taking the lock.
        if (await runtime.imageExists(plan.image)) return result(false);
        await buildInContext(runtime, plan, buildsDir, options, controller.signal);
        return result(true);
      },
      {
        what: plan.image,
        timeoutMs: options.lockTimeoutMs,
        signal: controller.signal,
        onWait: () => options.onProgress?.({ type: 'waiting' }),
      },
    );
  } catch (err) {
    if (controller.signal.aborted) throw controller.signal.reason;
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onExternalAbort);
    if (handleSignals) {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    }
  }
}

type BuildPlan = Extract<CompositionPlan, { needsBuild: true }>;

async function buildInContext(
  runtime: ImageClient,
  plan: BuildPlan,
  buildsDir: string,
  options: ComposeImageOptions,
  signal: AbortSignal,
): Promise<void> {
  const contextDir = join(buildsDir, newBuildDirName());
  // process.exit() elsewhere skips `finally`: remove the context on exit too.
  const removeContext = (): void => rmSync(contextDir, { recursive: true, force: true });
  process.on('exit', removeContext);
  const tail = new OutputTail(50);
  try {
    mkdirSync(contextDir, { mode: 0o700 });
    for (const f of plan.contextFiles) writeFileSync(join(contextDir, f.name), f.content, { mode: f.mode, flag: 'wx' });
    try {
      await runtime.buildImage(contextDir, plan.image, {
        labels: { ...options.labels, ...plan.labels },
        signal,
        onOutput: (line) => {
          tail.push(line);
          const event = parseBuildLine(line);
          if (event) options.onProgress?.(event);
        },
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw buildFailed(options.layers, tail.text(), err);
    }
  } finally {
    removeContext();
    process.off('exit', removeContext);
  }
  // podman 4 ends a build stopped by SIGTERM with exit code 0 and no image.
  if (signal.aborted) throw signal.reason;
  if (!(await runtime.imageExists(plan.image))) {
    throw buildFailed(options.layers, tail.text(), new Error(`podman build ended without creating ${plan.image}`));
  }
}

/** The error of a failed build: the last lines of output and what to do. */
function buildFailed(layers: readonly ResolvedLayer[], output: string, cause: unknown): MinoError {
  const names = layers.map((l) => l.manifest.name).join(', ');
  return new MinoError(
    `Building the image for layers ${names} failed${output ? `; last lines of output:\n${output}` : `: ${(cause as Error).message}`}`,
    {
      hint:
        (cause instanceof EngineError ? cause.diagnosis : undefined) ??
        `Check the install.sh and [root_install] packages of: ${names}; run with -vv for the full podman output`,
      cause,
    },
  );
}
