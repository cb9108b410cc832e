import { createHash } from 'node:crypto';
import { SESSION_ENV_PATH } from '../credentials/session-env-file.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import type { RunPlan } from './run-plan.js';

/**
 * A content hash of what defines a plan's container, for future warm pools: two plans with the
 * same hash can use the same pre-started container.
 *
 * Included: image, and every field of the spec that shapes the container (command, workdir,
 * network, hardening, read-only/tmpfs, userns, init, mounts in order, env by key, secret *names*,
 * interactive/tty/autoRemove, pull policy).
 * Excluded, because they identify one session rather than define a container, and differ on
 * every run even when the container would be identical:
 * - `name` (`mino-<session>`);
 * - all `labels` (session, owner PID, project, version, mode): the project is already covered
 *   by the project mount source, the mode by interactive/tty/autoRemove;
 * - `envFiles` (per-run temporary paths; their contents are unknown here), and the host path of
 *   the session env file mount (one per session; its target and the secret variable names it
 *   sets, which are part of the prelude's environment, stay in);
 * - `hooksDirs` (the session's egress hook directory is per session; the egress policy itself is
 *   in the plan's network part, not the spec).
 * Secret values are never part of a spec, so rotating a credential keeps the hash; the secret
 * names are included. Environment keys are sorted (order has no meaning); mounts, tmpfs and the
 * command keep their order (it has).
 */

/** Version of the hashed document; bump when the set of included fields changes meaning. */
export const PLAN_HASH_VERSION = 1;

/** JSON with object keys sorted at every level and undefined values dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) Object.defineProperty(out, key, { value: sortKeys(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** The part of a spec that {@link planHash} covers. */
export function hashedSpec(spec: ContainerSpec): Omit<ContainerSpec, 'name' | 'labels' | 'envFiles' | 'hooksDirs'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { name, labels, envFiles, hooksDirs, ...rest } = spec;
  if (rest.mounts) rest.mounts = rest.mounts.map((m) => (m.target === SESSION_ENV_PATH ? { ...m, source: 'session-env-file' } : m));
  return rest;
}

/** Hex SHA-256 of the canonical JSON of `{ v, image, spec }` with the exclusions above. */
export function planHash(plan: RunPlan): string {
  const doc = { v: PLAN_HASH_VERSION, image: plan.image, spec: hashedSpec(plan.spec) };
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}
