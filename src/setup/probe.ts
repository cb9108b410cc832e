import { MinoError } from '../common/errors.js';
import type { Host } from '../host/host.js';
import type { ContainerRuntime, ContainerSpec } from '../runtime/container-runtime.js';
import { diagnoseProbe, type ProbeProblem } from './probe-diagnosis.js';

/** Tag of the tiny image the probe container runs (no registry needed: built from the host's `true`). */
export const PROBE_IMAGE = 'localhost/mino-probe:1';

/** Outcome of one probe run. */
export interface ProbeResult {
  ok: boolean;
  network: string;
  /** podman's error output when the probe failed. */
  stderr: string;
  problem: ProbeProblem | undefined;
}

/** Absolute paths of the shared libraries in `ldd` output (glibc and musl formats). */
export function parseLddPaths(text: string): string[] {
  const paths = new Set<string>();
  for (const line of text.split('\n')) {
    for (const token of line.trim().split(/\s+/)) {
      if (token.startsWith('/')) paths.add(token);
    }
  }
  return [...paths];
}

/** What the probe image is made of: the host's `true` and the libraries it links. */
export interface ProbeImageSource {
  /** Absolute path of the `true` binary on the podman host (the image's CMD). */
  binary: string;
  /** Paths relative to `/` that go into the image. */
  paths: string[];
  /** `podman import --change` instructions. */
  changes: string[];
}

/** Finds the files of the probe image on the podman host. */
export async function probeImageSource(host: Host): Promise<ProbeImageSource> {
  let binary: string | undefined;
  for (const candidate of ['/usr/bin/true', '/bin/true']) {
    const test = await host.run(['test', '-x', candidate]);
    if (test.exitCode === 0) {
      binary = candidate;
      break;
    }
  }
  if (!binary) throw new MinoError('Cannot build the probe image: no /usr/bin/true on the podman host');
  const ldd = await host.run(['ldd', binary]);
  // A static binary makes ldd fail ("not a dynamic executable"): then it needs no libraries.
  const libs = ldd.exitCode === 0 ? parseLddPaths(ldd.stdout) : [];
  const paths = [binary, ...libs].map((p) => p.replace(/^\/+/, ''));
  return { binary, paths, changes: [`CMD ["${binary}"]`, 'LABEL io.mino.probe=true'] };
}

/** Imports the probe image from `source` (the host's `true` and its libraries, links followed). */
export async function importProbeImage(runtime: ContainerRuntime, source: ProbeImageSource): Promise<void> {
  await runtime.importImage('/', PROBE_IMAGE, { paths: source.paths, dereference: true, changes: source.changes });
}

/**
 * Makes sure the probe image exists: imports the podman host's own `true` binary and the
 * libraries it links as a one-layer image. Works offline on any Linux podman host.
 */
export async function ensureProbeImage(runtime: ContainerRuntime, host: Host): Promise<void> {
  if (await runtime.imageExists(PROBE_IMAGE)) return;
  await importProbeImage(runtime, await probeImageSource(host));
}

/** The container of one probe run (`run --rm --init` of `true`, labelled). */
export function probeSpec(network: string, ulimits?: string[], init = true): ContainerSpec {
  return {
    image: PROBE_IMAGE,
    command: [],
    autoRemove: true,
    // Sessions run with --init (catatonit): probe it too, so a missing init is found by setup.
    init,
    network,
    ulimits,
    labels: { 'io.mino.probe': 'true' },
  };
}

/** Runs the probe container once (`podman run --rm` of `true`) on the given network. */
export async function runProbe(runtime: ContainerRuntime, network: string, ulimits?: string[]): Promise<ProbeResult> {
  const result = await runtime.runCaptured(probeSpec(network, ulimits));
  const ok = result.exitCode === 0;
  return { ok, network, stderr: result.stderr.trim(), problem: ok ? undefined : diagnoseProbe(result.stderr) };
}
