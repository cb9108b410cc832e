import type { Host } from '../host/host.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { importProbeImage, probeImageSource, probeSpec } from './probe.js';
import { diagnoseProbe } from './probe-diagnosis.js';

/**
 * Tries native (kernel) overlay for the rootless user in a scratch store, never touching the
 * user's own store: a runtime on `--root <scratch> --runroot <scratch> --storage-driver overlay`
 * imports the probe image and runs it, then the scratch directories are removed.
 */

/** Outcome of {@link probeOverlay}. */
export interface OverlayProbeResult {
  works: boolean;
  /** containers/storage's "Native Overlay Diff" of the scratch store, when it got that far. */
  nativeDiff: boolean | undefined;
  /** Why overlay does not work (the failing step's last line), or a note when it does. */
  detail: string;
  /** A scratch directory that could not be removed. */
  leftover?: string;
  ms: number;
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/level=warning/.test(l));
  return lines.pop() ?? (text.trim() || 'no output');
}

type Attempt = Omit<OverlayProbeResult, 'ms' | 'leftover'>;

/** Imports and runs the probe image on the scratch store of `scratch`. */
async function attempt(scratch: ContainerRuntime, host: Host): Promise<Attempt> {
  const { storageDriver, nativeOverlayDiff: nativeDiff } = await scratch.info();
  if (storageDriver !== 'overlay')
    return { works: false, nativeDiff, detail: `podman picked ${storageDriver || 'no driver'}` };
  await importProbeImage(scratch, await probeImageSource(host));
  // No --init: a missing catatonit is the main probe's business, not the storage's.
  const run = await scratch.runCaptured(probeSpec('none', undefined, false));
  if (run.exitCode === 0) return { works: true, nativeDiff, detail: 'a container ran on overlay' };
  const problem = diagnoseProbe(run.stderr);
  if (problem !== 'unknown' && nativeDiff) {
    // The OCI runtime failed after podman mounted the overlay root file system (crun on
    // cgroup v1, ulimits): a later setup step repairs that; the storage itself works.
    return {
      works: true,
      nativeDiff,
      detail: `overlay mounts; the container itself failed (${problem}), which setup repairs next`,
    };
  }
  return { works: false, nativeDiff, detail: lastLine(run.stderr) };
}

/** Creates a fresh directory `<parent>/mino-overlay-probe.XXXXXX` on the host. */
async function makeScratchDir(host: Host, parent: string): Promise<string> {
  const made = await host.run(['mktemp', '-d', `${parent}/mino-overlay-probe.XXXXXX`]);
  const path = made.stdout.trim();
  if (made.exitCode !== 0 || !path.startsWith('/'))
    throw new Error(`cannot create a scratch directory: ${lastLine(made.stderr)}`);
  return path;
}

/**
 * Probes native overlay next to `graphRoot` (on the same file system as the real store, since
 * overlay support depends on it), with its run root under `runtimeDir`. Creates the parent of
 * `graphRoot` when missing, never the graph root itself.
 */
export async function probeOverlay(
  runtime: ContainerRuntime,
  host: Host,
  graphRoot: string,
  runtimeDir: string | undefined,
): Promise<OverlayProbeResult> {
  const started = Date.now();
  const parent = graphRoot.replace(/\/+$/, '').replace(/\/[^/]*$/, '') || '/';
  const dirs: string[] = [];
  let result: Attempt;
  let scratch: ContainerRuntime | undefined;
  try {
    const mkdir = await host.run(['mkdir', '-p', '--', parent]);
    if (mkdir.exitCode !== 0) throw new Error(`cannot create ${parent}: ${lastLine(mkdir.stderr)}`);
    dirs.push(await makeScratchDir(host, parent));
    dirs.push(await makeScratchDir(host, runtimeDir ?? '/tmp'));
    const [root, run] = dirs as [string, string];
    scratch = runtime.withStore({ graphRoot: `${root}/root`, runRoot: `${run}/run`, driver: 'overlay' });
    result = await attempt(scratch, host);
  } catch (err) {
    result = { works: false, nativeDiff: undefined, detail: (err as Error).message };
  }
  if (scratch && dirs.length === 2) {
    // Overlay keeps its layer directory mounted inside podman's user namespace, and layers can
    // hold files of sub-uids: unmount and remove from inside the scratch store's namespace (a
    // plain `podman unshare` would create the user's default store), then remove what podman
    // re-creates on exit (owned by the user).
    await scratch.unshare(['umount', `${dirs[0]}/root/overlay`]).catch(() => undefined);
    await scratch.unshare(['rm', '-rf', '--', ...dirs]).catch(() => undefined);
  }
  const removed = dirs.length > 0 ? await host.run(['rm', '-rf', '--', ...dirs]) : undefined;
  return {
    ...result,
    ...(removed && removed.exitCode !== 0 && dirs[0] ? { leftover: dirs[0] } : {}),
    ms: Date.now() - started,
  };
}
