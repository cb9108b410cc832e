import { MinoError, UsageError } from '../common/errors.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { printable } from '../common/printable.js';
import { DEFAULT_NETWORK } from '../config/defaults.js';
import type { EgressPlan } from '../network/egress-plan.js';

/**
 * The network part of a run plan: mino 1.6's plain modes, or an egress policy (allowlist or
 * learn) enforced outside the container. With a policy the container gets `--network none`
 * (loopback only: no route out, no resolver), the session's OCI hook directory (the hook gives
 * the session's proxy a listener on the container's loopback before the command starts) and the
 * proxy variables; the policy itself is plain data in {@link NetworkPlan.egress}.
 */

/** Plain podman network modes mino accepts. */
type NetworkMode = 'bridge' | 'host' | 'none';

/** All accepted plain modes, in the order shown in messages. */
const NETWORK_MODES: readonly NetworkMode[] = Object.freeze(['bridge', 'host', 'none'] as const);

/** The default when neither CLI nor config chooses. */
const DEFAULT_NETWORK_MODE: NetworkMode = DEFAULT_NETWORK;

/** What the container's network looks like. */
export interface NetworkPlan {
  /** A plain mode, or `allowlist`/`learn` (an egress policy). */
  mode: NetworkMode | 'allowlist' | 'learn';
  /** The egress policy and its proxy, for `allowlist` and `learn`. */
  egress?: EgressPlan;
}

/**
 * Validates the resolved network choice: a plain mode (undefined means
 * {@link DEFAULT_NETWORK_MODE}), or an egress plan. Throws a UsageError for an unknown mode.
 */
export function resolveNetwork(value: string | undefined, egress?: EgressPlan): NetworkPlan {
  if (egress !== undefined) return { mode: egress.mode, egress };
  if (value === undefined) return { mode: DEFAULT_NETWORK_MODE };
  if ((NETWORK_MODES as readonly string[]).includes(value)) return { mode: value as NetworkMode };
  if (value === 'learn' || value === 'allowlist')
    throw new MinoError(`Internal error: network ${value} without an egress plan`);
  throw new UsageError(
    `Invalid network mode '${printable(value)}'`,
    `Use --network ${NETWORK_MODES.join(', ')} (bridge: normal outbound access; host: the host's network; none: no network), learn, or --network-allow HOST:PORT`,
  );
}

/** The container spec fields that implement a {@link NetworkPlan} (environment apart). */
export function networkSpec(plan: NetworkPlan): Pick<ContainerSpec, 'network' | 'capAdd' | 'hooksDirs'> {
  if (plan.egress) return { network: 'none', hooksDirs: [...plan.egress.hooksDirs] };
  return { network: plan.mode };
}

/**
 * The environment with the proxy variables of an egress plan forced over the user's; the
 * warnings name the user's values that were replaced (they could only have lost access).
 */
export function withProxyEnv(
  env: Record<string, string>,
  plan: NetworkPlan,
): { env: Record<string, string>; warnings: string[] } {
  if (!plan.egress) return { env, warnings: [] };
  const out = { ...env };
  const replaced: string[] = [];
  for (const [key, value] of Object.entries(plan.egress.env)) {
    if (key in out && out[key] !== value) replaced.push(key);
    out[key] = value;
  }
  const warnings =
    replaced.length > 0
      ? [
          `${replaced.join(', ')} ${replaced.length === 1 ? 'is' : 'are'} set by mino in this session: all traffic goes through the session's egress proxy`,
        ]
      : [];
  return { env: out, warnings };
}
