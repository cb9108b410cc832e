import { isEnvName } from '../credentials/env-names.js';
import { agentLoginEnv } from '../credentials/agent-logins.js';
import { CA_BUNDLE_TARGET, CA_BUNDLE_VARS, SYSTEM_CA_BUNDLE_TARGET } from '../credentials/host-ca-bundle.js';
import type { HostSettingsItem } from '../credentials/host-agent-settings.js';
import type { ProxyCredentialRule } from '../credentials/proxy-credential.js';
import { SESSION_ENV_PATH } from '../credentials/session-env-file.js';
import { LOGINS_TARGET, type PreludeParts } from '../credentials/session-prelude.js';
import { SSH_AGENT_TARGET } from '../credentials/ssh-agent.js';
import { MinoError } from '../common/errors.js';
import { isMinoImage } from '../image/mino-image.js';
import type { PlannedMount } from './volume-args.js';

/**
 * The credentials part of a plan, decided from plain inputs: which mounts (session env file,
 * shared logins volume, host agent settings, SSH agent socket, CA bundle), which plain variables,
 * and whether the command runs through the session prelude (credentials/session-prelude.ts).
 * Secret values never reach this code: the plan knows the env file's host path and the names of
 * the variables in it, nothing else.
 */

/** What the credentials step hands to the plan builder. */
export interface PlanCredentialInput {
  /** The session env file (written by the caller after the session record exists) and the names it sets. */
  envFile?: { hostPath: string; variables: readonly string[] };
  /** Harmless host values passed through (LANG, TZ, TERM...): above the layers, below config. */
  hostEnv?: Readonly<Record<string, string>>;
  /** Plain values of the providers (AWS_REGION...): above config, below `-e`. */
  providerEnv?: Readonly<Record<string, string>>;
  /** Name of the shared agent logins volume; undefined = logins not shared. */
  loginsVolume?: string;
  /** Host agent settings to carry in read-only. */
  hostSettings?: readonly HostSettingsItem[];
  /** Host path of the SSH agent socket (or mino's relay of it) to forward. */
  sshAgentSocket?: string;
  /** Host path of the CA bundle for sessions. */
  caBundle?: string;
  /**
   * `caBundle` holds a CA of this session's own (TLS termination at the proxy): it is also
   * mounted as the system bundle (mino images), and mino run makes the CA before the start.
   */
  sessionCa?: boolean;
  /** Credentials kept out of the sandbox: their placeholders become plain values. */
  proxy?: readonly ProxyCredentialRule[];
  /** `network.upstream_ca`'s certificates (PEM, not secret): the proxy verifies upstream servers against them too. */
  upstreamCa?: readonly string[];
}

/** The credentials part of a {@link RunPlan}. */
export interface PlanCredentials {
  /** Names of the variables the session env file sets (never their values). */
  secretVariables: string[];
  /** True when the command runs through the session prelude. */
  prelude: boolean;
  /** The parts of the prelude (when `prelude`). */
  preludeParts: PreludeParts;
  /** Proxy rules (placeholders, hosts); the proxy gets the real values from the caller. */
  proxy: ProxyCredentialRule[];
  /** The session has a CA of its own (see {@link PlanCredentialInput.sessionCa}). */
  sessionCa: boolean;
  /** See {@link PlanCredentialInput.upstreamCa}. */
  upstreamCa: string[];
}

/** The mounts, env layers and prelude decision of {@link planCredentials}. */
export interface PlannedCredentials extends PlanCredentials {
  mounts: PlannedMount[];
  /** Variables of lowest precedence (agent login dirs, CA paths): config and `-e` may override them. */
  baseEnv: Record<string, string>;
  /** Host passthrough values. */
  hostEnv: Record<string, string>;
  /** Provider values, SSH_AUTH_SOCK and placeholders: above config. */
  credentialEnv: Record<string, string>;
  /** Things to tell the user. */
  warnings: string[];
}

/**
 * Plans the credential mounts and variables for `image`. A mount whose target another mount of
 * the user already uses is left out with a warning (the user's mount wins).
 */
export function planCredentials(
  input: PlanCredentialInput | undefined,
  image: string,
  userTargets: readonly string[],
): PlannedCredentials {
  const parts: PreludeParts = { env: false, logins: false, settings: false };
  const out: PlannedCredentials = {
    secretVariables: [],
    prelude: false,
    preludeParts: parts,
    proxy: [],
    sessionCa: false,
    upstreamCa: [...(input?.upstreamCa ?? [])],
    mounts: [],
    baseEnv: {},
    hostEnv: {},
    credentialEnv: {},
    warnings: [],
  };
  if (input === undefined) return out;
  const add = (mount: Omit<PlannedMount, 'origin'>, what: string): boolean => {
    if (userTargets.includes(mount.target) || userTargets.some((t) => mount.target.startsWith(`${t}/`))) {
      out.warnings.push(`${what} is not mounted: ${mount.target} is already a mount of yours`);
      return false;
    }
    out.mounts.push({ ...mount, origin: 'credentials' });
    return true;
  };
  if (input.envFile && input.envFile.variables.length > 0) {
    for (const name of input.envFile.variables) {
      if (!isEnvName(name)) throw new MinoError(`Invalid variable name in the credentials of the session`);
    }
    if (add({ source: input.envFile.hostPath, target: SESSION_ENV_PATH, readOnly: true }, 'The session env file')) {
      out.secretVariables = [...input.envFile.variables];
      parts.env = true;
    }
  }
  Object.assign(out.hostEnv, input.hostEnv ?? {});
  Object.assign(out.credentialEnv, input.providerEnv ?? {});
  if (
    input.loginsVolume !== undefined &&
    add(
      { source: input.loginsVolume, target: LOGINS_TARGET, readOnly: false, chown: true },
      'The shared agent logins volume',
    )
  ) {
    Object.assign(out.baseEnv, agentLoginEnv());
    // Codex's login needs a link in the home, made by the prelude; mino images have its sh.
    if (isMinoImage(image)) parts.logins = true;
  }
  const settings = input.hostSettings ?? [];
  for (const item of settings) {
    if (add({ source: item.source, target: item.target, readOnly: true }, `The host's ${item.source}`))
      parts.settings = true;
  }
  if (
    input.sshAgentSocket !== undefined &&
    add({ source: input.sshAgentSocket, target: SSH_AGENT_TARGET, readOnly: false }, 'The SSH agent socket')
  ) {
    out.credentialEnv.SSH_AUTH_SOCK = SSH_AGENT_TARGET;
  }
  if (
    input.caBundle !== undefined &&
    add({ source: input.caBundle, target: CA_BUNDLE_TARGET, readOnly: true }, 'The host CA bundle')
  ) {
    for (const name of CA_BUNDLE_VARS) out.baseEnv[name] = CA_BUNDLE_TARGET;
    if (input.sessionCa) {
      out.sessionCa = true;
      if (isMinoImage(image))
        add({ source: input.caBundle, target: SYSTEM_CA_BUNDLE_TARGET, readOnly: true }, 'The session CA bundle');
    }
  }
  for (const rule of input.proxy ?? []) {
    out.credentialEnv[rule.variable] = rule.placeholder;
    out.proxy.push({ ...rule, hosts: [...rule.hosts] });
  }
  out.prelude = parts.env || parts.logins || parts.settings;
  return out;
}
