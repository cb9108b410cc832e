import type { ContainerRuntime } from '../runtime/container-runtime.js';
import { MinoError } from '../common/errors.js';
import { lastLines } from '../runtime/podman/podman-error.js';
import { validateImageRef } from '../runtime/validate.js';

/**
 * Small podman image operations the ContainerRuntime interface does not offer, run through
 * `runtime.hostExec` so they reach the same engine (local, rootless user, or OrbStack VM).
 */

/** The image ID of a local image, or undefined when it does not exist. */
export async function imageId(runtime: ContainerRuntime, image: string): Promise<string | undefined> {
  const r = await runtime.hostExec(['podman', 'image', 'inspect', '--format', '{{.Id}}', validateImageRef(image)]);
  const id = r.stdout.trim();
  return r.exitCode === 0 && id ? id : undefined;
}

/** Size in bytes of a local image, or undefined. */
export async function imageSize(runtime: ContainerRuntime, image: string): Promise<number | undefined> {
  const r = await runtime.hostExec(['podman', 'image', 'inspect', '--format', '{{.Size}}', validateImageRef(image)]);
  const n = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isFinite(n) ? n : undefined;
}

/** Adds the name `target` to the local image `source` (moves it when another image had it). */
export async function tagImage(runtime: ContainerRuntime, source: string, target: string): Promise<void> {
  const r = await runtime.hostExec(['podman', 'tag', validateImageRef(source), validateImageRef(target)]);
  if (r.exitCode !== 0) throw new MinoError(`podman tag ${source} ${target} failed: ${lastLines(r.stderr, 5)}`);
}

/**
 * Tries to pull an image, giving up after `timeoutSeconds` (a registry that is firewalled off
 * can hang for minutes). True when the image is now local.
 */
export async function tryPull(runtime: ContainerRuntime, image: string, timeoutSeconds: number): Promise<{ ok: boolean; error: string }> {
  const r = await runtime.hostExec(['timeout', String(timeoutSeconds), 'podman', 'pull', '-q', validateImageRef(image)]);
  if (r.exitCode === 0) return { ok: true, error: '' };
  return { ok: false, error: r.exitCode === 124 ? `no answer within ${timeoutSeconds} s` : lastLines(r.stderr, 1) };
}

/** Formats a byte count as MB or GB for messages. */
export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${Math.round(n / 1e6)} MB`;
}
