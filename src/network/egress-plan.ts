import type { EgressPaths } from './egress-paths.js';
import type { EgressMode, PolicyText } from './policy.js';
import type { PresetName } from './presets.js';
import { formatL7Rule, type L7Rule } from './l7-rule.js';
import { formatRule, type Rule } from './rule.js';
import { SSH_CONFIG_TARGET, sshProxyConfigPath } from './ssh-proxy-config.js';

/**
 * The egress part of a run plan, as plain data: the policy (what `--dry-run` prints, what the
 * proxy enforces), where the session's proxy keeps its files, the hook directories podman gets,
 * and the variables that point the sandbox's tools at the proxy. Building it does no I/O.
 */

/** Where the proxy listens inside the sandbox (its own loopback; nothing else is reachable). */
const EGRESS_LISTEN: Readonly<{ host: string; port: number }> = Object.freeze({ host: '127.0.0.1', port: 3128 });

/** The egress plan of a session with an allowlist or in learn mode. */
export interface EgressPlan {
  mode: EgressMode;
  policy: PolicyText;
  presets: PresetName[];
  listen: { host: string; port: number };
  /** The session's egress directory on the host (never mounted into the container). */
  dir: string;
  /** `podman --hooks-dir` values: the host's own hook directories first, then the session's. */
  hooksDirs: string[];
  /** Proxy variables for the container (upper and lower case; loopback bypasses the proxy). */
  env: Record<string, string>;
  /** Things the user should hear (e.g. a preset registry not found on this host). */
  notes: string[];
  /** The ssh client config routing ssh through the proxy, mounted read-only (mino images). */
  sshConfig?: { source: string; target: string };
}

/** The proxy variables for a listener. */
function proxyEnv(listen: { host: string; port: number }): Record<string, string> {
  const url = `http://${listen.host}:${listen.port}`;
  const noProxy = 'localhost,127.0.0.1,::1';
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    ALL_PROXY: url,
    NO_PROXY: noProxy,
    http_proxy: url,
    https_proxy: url,
    all_proxy: url,
    no_proxy: noProxy,
  };
}

/** Inputs of {@link buildEgressPlan}. */
export interface EgressPlanInput {
  mode: EgressMode;
  /** Allow rules (explicit ones first, then the presets' rules). */
  rules: readonly Rule[];
  /** HTTPS allow rules on method and path (explicit ones first, then the presets'). */
  l7?: readonly L7Rule[];
  presets: readonly PresetName[];
  paths: EgressPaths;
  /** The host's configured OCI hook directories (kept, so mino does not switch them off). */
  systemHooksDirs: readonly string[];
  notes?: readonly string[];
  /** Mount the ssh ProxyCommand config (images known to read /etc/ssh/ssh_config.d). */
  sshConfig?: boolean;
}

/** Builds the egress plan; duplicate rules are dropped (first kept). */
export function buildEgressPlan(input: EgressPlanInput): EgressPlan {
  const allow = [...new Set([...input.rules.map(formatRule), ...(input.l7 ?? []).map(formatL7Rule)])];
  return {
    mode: input.mode,
    policy: { mode: input.mode, allow, deny: [] },
    presets: [...input.presets],
    listen: { ...EGRESS_LISTEN },
    dir: input.paths.dir,
    hooksDirs: [...input.systemHooksDirs.filter((d) => d !== input.paths.hooksDir), input.paths.hooksDir],
    env: proxyEnv(EGRESS_LISTEN),
    notes: [...(input.notes ?? [])],
    ...(input.sshConfig
      ? { sshConfig: { source: sshProxyConfigPath(input.paths.base, EGRESS_LISTEN.port), target: SSH_CONFIG_TARGET } }
      : {}),
  };
}
