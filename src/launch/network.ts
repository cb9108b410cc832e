import { UsageError } from '../common/errors.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { printable } from '../runtime/validate.js';
import { DEFAULT_NETWORK } from '../config/defaults.js';

/**
 * The network part of a run plan. Today only mino 1.6's plain modes; the allowlist / egress-proxy
 * work extends {@link NetworkPlan} (e.g. `allow` rules, a proxy endpoint) and
 * {@link networkSpec} (e.g. `--network none` plus a proxy socket mount and env), without touching
 * the rest of the plan builder.
 */

/** Plain podman network modes mino accepts. */
export type NetworkMode = 'bridge' | 'host' | 'none';

/** All accepted modes, in the order shown in messages. */
export const NETWORK_MODES: readonly NetworkMode[] = Object.freeze(['bridge', 'host', 'none'] as const);

/** The default when neither CLI nor config chooses. */
export const DEFAULT_NETWORK_MODE: NetworkMode = DEFAULT_NETWORK;

/** What the container's network looks like. Extension point for allowlists and egress proxies. */
export interface NetworkPlan {
  mode: NetworkMode;
}

/**
 * Validates the resolved network choice (CLI `--network` over config `container.network`, decided
 * by the caller); undefined means {@link DEFAULT_NETWORK_MODE}. Throws a UsageError otherwise.
 */
export function resolveNetwork(value: string | undefined): NetworkPlan {
  if (value === undefined) return { mode: DEFAULT_NETWORK_MODE };
  if ((NETWORK_MODES as readonly string[]).includes(value)) return { mode: value as NetworkMode };
  throw new UsageError(
    `Invalid network mode '${printable(value)}'`,
    `Use --network ${NETWORK_MODES.join(', ')} (bridge: normal outbound access; host: the host's network; none: no network)`,
  );
}

/** The container spec fields that implement a {@link NetworkPlan}. */
export function networkSpec(plan: NetworkPlan): Pick<ContainerSpec, 'network' | 'capAdd'> {
  return { network: plan.mode };
}
