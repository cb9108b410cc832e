import type { ContainerRuntime, ContainerSpec, RunOutput, StreamedRun } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../common/text.js';
import { VOLUME_TARGET } from './sync-scripts.js';

/**
 * The short-lived container that reads and writes a project volume on the engine: the session's
 * image (it has sh and tar), as root (which, on a rootless engine, is the engine's user: the
 * session's user there), no network, removed when done.
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

/** Runs the helper; throws a MinoError with the helper's error output when it fails. */
export async function runHelper(
  target: SyncTarget,
  what: string,
  script: string,
  args: readonly string[],
  streams: StreamedRun,
): Promise<RunOutput> {
  const result = await target.runtime.runStreamed(
    helperSpec(target, script, args, streams.input !== undefined),
    streams,
  );
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
