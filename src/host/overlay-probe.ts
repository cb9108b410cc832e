import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { PROBE_IMAGE, probeImageSource, probeRunArgs } from './probe.js';
import { diagnoseProbe } from './probe-diagnosis.js';

/**
 * Tries native (kernel) overlay for the rootless user in a scratch store, never touching the
 * user's own store: `podman --root <scratch> --runroot <scratch> --storage-driver overlay`
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

/** Graph driver and status of `podman info --format json` output. */
export function parseStoreInfo(text: string): { driver: string | undefined; nativeDiff: boolean | undefined } {
  try {
    const info = JSON.parse(text) as { store?: { graphDriverName?: unknown; graphStatus?: Record<string, unknown> } };
    const driver = typeof info.store?.graphDriverName === 'string' ? info.store.graphDriverName : undefined;
    const diff = info.store?.graphStatus?.['Native Overlay Diff'];
    return { driver, nativeDiff: diff === undefined ? undefined : String(diff) === 'true' };
  } catch {
    return { driver: undefined, nativeDiff: undefined };
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/level=warning/.test(l));
  return lines.pop() ?? (text.trim() || 'no output');
}

type Attempt = Omit<OverlayProbeResult, 'ms' | 'leftover'>;

/** Imports and runs the probe image in the scratch store given by `flags`. */
async function attempt(runtime: ContainerRuntime, flags: string[], scratch: string): Promise<Attempt> {
  const info = await runtime.hostExec(['podman', ...flags, 'info', '--format', 'json']);
  if (info.exitCode !== 0) return { works: false, nativeDiff: undefined, detail: lastLine(info.stderr) };
  const { driver, nativeDiff } = parseStoreInfo(info.stdout);
  if (driver !== 'overlay') return { works: false, nativeDiff, detail: `podman picked ${driver ?? 'no driver'}` };

  const source = await probeImageSource(runtime);
  const tar = `${scratch}/probe.tar`;
  const packed = await runtime.hostExec(['tar', '-C', '/', '-c', '-h', '-f', tar, '--', ...source.paths]);
  if (packed.exitCode !== 0) return { works: false, nativeDiff, detail: `tar: ${lastLine(packed.stderr)}` };
  const imported = await runtime.hostExec([
    'podman', ...flags, 'import', '-q', ...source.changes.flatMap((c) => ['--change', c]), tar, PROBE_IMAGE,
  ]);
  if (imported.exitCode !== 0) return { works: false, nativeDiff, detail: lastLine(imported.stderr) };

  // No --init: a missing catatonit is the main probe's business, not the storage's.
  const run = await runtime.hostExec(['podman', ...flags, ...probeRunArgs('none', undefined, false)]);
  if (run.exitCode === 0) return { works: true, nativeDiff, detail: 'a container ran on overlay' };
  const problem = diagnoseProbe(run.stderr);
  if (problem && problem !== 'unknown' && nativeDiff) {
    // The OCI runtime failed after podman mounted the overlay root file system (crun on
    // cgroup v1, ulimits): a later setup step repairs that; the storage itself works.
    return { works: true, nativeDiff, detail: `overlay mounts; the container itself failed (${problem}), which setup repairs next` };
  }
  return { works: false, nativeDiff, detail: lastLine(run.stderr) };
}

/**
 * Probes native overlay next to `graphRoot` (on the same file system as the real store, since
 * overlay support depends on it), with its run root under `runtimeDir`. Creates the parent of
 * `graphRoot` when missing, never the graph root itself.
 */
export async function probeOverlay(
  runtime: ContainerRuntime, graphRoot: string, runtimeDir: string | undefined,
): Promise<OverlayProbeResult> {
  const started = Date.now();
  const parent = graphRoot.replace(/\/+$/, '').replace(/\/[^/]*$/, '') || '/';
  const made = await runtime.hostExec(['sh', '-c', 'mkdir -p -- "$1" && mktemp -d "$1/mino-overlay-probe.XXXXXX" && mktemp -d "$2/mino-overlay-probe.XXXXXX"',
    'sh', parent, runtimeDir ?? '/tmp']);
  const [scratch, runScratch] = made.stdout.trim().split('\n');
  if (made.exitCode !== 0 || !scratch || !runScratch) {
    if (scratch) await runtime.hostExec(['rm', '-rf', '--', scratch]);
    return { works: false, nativeDiff: undefined, detail: `cannot create a scratch directory: ${lastLine(made.stderr)}`, ms: Date.now() - started };
  }
  const flags = ['--root', `${scratch}/root`, '--runroot', `${runScratch}/run`, '--storage-driver', 'overlay'];
  let result: Attempt;
  try {
    result = await attempt(runtime, flags, scratch);
  } catch (err) {
    result = { works: false, nativeDiff: undefined, detail: (err as Error).message };
  }
  // Overlay keeps its layer directory mounted inside podman's user namespace, and layers can
  // hold files of sub-uids: unmount and remove from inside, then remove what podman re-creates
  // on exit (owned by the user). Plain `podman unshare` would create the user's default store.
  await runtime.hostExec(['podman', ...flags, 'unshare', 'sh', '-c',
    'umount "$1/root/overlay" 2>/dev/null; rm -rf -- "$1" "$2"', 'sh', scratch, runScratch]);
  const removed = await runtime.hostExec(['rm', '-rf', '--', scratch, runScratch]);
  return { ...result, ...(removed.exitCode === 0 ? {} : { leftover: scratch }), ms: Date.now() - started };
}
