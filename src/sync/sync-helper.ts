import type { ContainerRuntime, ContainerSpec, RunOutput, StreamedRun } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../common/text.js';
import { trace } from '../common/trace.js';
import { execInHelper, HELPER_MAIN } from './helper-exec.js';
import {
  helperIdleSeconds,
  LABEL_SYNC_HELPER,
  persistentHelperName,
  runInPersistentHelper,
} from './persistent-helper.js';
import { VOLUME_TARGET } from './sync-scripts.js';

/**
 * The short-lived container that reads and writes a project volume on the engine: the session's
 * image (it has sh and tar), as root (which, on a rootless engine, is the engine's user: the
 * session's user there), no network, removed when done. A warm pool on the engine keeps one
 * running (a warm helper, pool/warm-sync-helper.ts); without one, a copy keeps its own running
 * between trips (persistent-helper.ts): the scripts are exec'd into it instead, which saves a
 * container start per trip. It is mino's own container, never the sandbox's.
 */

/** Where and what the helper runs. */
export interface SyncTarget {
  runtime: ContainerRuntime;
  /** Engine name (for messages and records). */
  engine: string;
  volume: string;
  image: string;
  /** Labels of the helper container (mino's state key, so `mino gc`/tests find leftovers). */
  labels: Record<string, string>;
  /**
   * A warm helper already running on the engine with this volume (see {@link warmHelperSpec}):
   * the scripts run in it with `podman exec` instead of a new container each.
   */
  warmHelper?: string;
  /**
   * Keep a helper running for this copy between trips (persistent-helper.ts; used when no warm
   * helper serves): `record` is its local record's path.
   */
  persistent?: { record: string };
}

/**
 * The spec of the persistent helper of `target`'s copy (persistent-helper.ts): the helper's
 * container, detached, under its deterministic name, ending `idle` seconds after its last trip.
 */
function persistentHelperSpec(target: SyncTarget, idle: number): ContainerSpec & { name: string } {
  return {
    ...helperSpec(target, HELPER_MAIN, ['0', String(idle)], false),
    name: persistentHelperName(target.volume, target.image),
    labels: { ...target.labels, 'io.mino.sync': target.volume, [LABEL_SYNC_HELPER]: '1' },
  };
}

/** Runs the script in the copy's persistent helper when `target` keeps one (else undefined). */
function inPersistentHelper(
  target: SyncTarget,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput | undefined> {
  if (target.persistent === undefined) return Promise.resolve(undefined);
  const idleSeconds = helperIdleSeconds();
  const helper = {
    runtime: target.runtime,
    spec: persistentHelperSpec(target, idleSeconds),
    record: target.persistent.record,
    idleSeconds,
  };
  return runInPersistentHelper(helper, script, args, streams);
}

/**
 * The spec of a warm helper for `target`'s volume: the helper's container, detached, named
 * `name` with `labels`, living `seconds` (longer while a script runs in it).
 */
export function warmHelperSpec(
  target: SyncTarget,
  name: string,
  labels: Record<string, string>,
  seconds: number,
): ContainerSpec {
  return {
    ...helperSpec(target, HELPER_MAIN, [String(seconds), '5'], false),
    name,
    labels: { ...labels, 'io.mino.sync': target.volume },
  };
}

/** The helper's spec for `script` with positional `args`. */
function helperSpec(target: SyncTarget, script: string, args: readonly string[], stdin: boolean): ContainerSpec {
  return {
    image: target.image,
    command: ['sh', '-c', script, 'mino-sync', ...args],
    labels: { ...target.labels, 'io.mino.sync': target.volume },
    user: '0:0',
    network: 'none',
    autoRemove: true,
    interactive: stdin,
    pullNever: true,
    securityOpt: ['no-new-privileges'],
    mounts: [{ source: target.volume, target: VOLUME_TARGET }],
  };
}

/** Runs the script in a helper container of its own (removed when done). */
function inContainerOfItsOwn(
  target: SyncTarget,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput> {
  trace('sync trip in a container of its own', target.volume);
  return target.runtime.runStreamed(helperSpec(target, script, args, streams.input !== undefined), streams);
}

/** Runs the helper; throws a MinoError with the helper's error output when it fails. */
export async function runHelper(
  target: SyncTarget,
  what: string,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput> {
  const result =
    (target.warmHelper === undefined
      ? await inPersistentHelper(target, script, args, streams)
      : await execInHelper(target.runtime, target.warmHelper, script, args, streams)) ??
    (await inContainerOfItsOwn(target, script, args, streams));
  if (result.exitCode !== 0) {
    throw new MinoError(
      `${what} on engine ${target.engine} failed (exit ${result.exitCode}): ${lastLines(result.stderr, 5)}`,
      {
        hint: `Check the engine with: mino setup --engine ${target.engine}`,
      },
    );
  }
  return result;
}
