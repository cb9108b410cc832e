import { join } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { DEFAULT_ENV_PASSTHROUGH } from '../config/defaults.js';
import type { RunConfig } from '../config/run-config.js';
import { loginsVolumeName } from '../credentials/agent-logins.js';
import { CredentialCache } from '../credentials/credential-cache.js';
import { assignedNames, splitCliEnv, takeFromHost } from '../credentials/env-passthrough.js';
import { hostAgentSettings, type HostSettingsItem } from '../credentials/host-agent-settings.js';
import { writeSessionCaBundle } from '../credentials/host-ca-bundle.js';
import { runProviders, type Runner } from '../credentials/provider-runner.js';
import { awsProvider } from '../credentials/providers/aws.js';
import { azureProvider } from '../credentials/providers/azure.js';
import { gcpProvider } from '../credentials/providers/gcp.js';
import { githubProvider } from '../credentials/providers/github.js';
import type { CredentialProvider, ProviderName } from '../credentials/providers/provider.js';
import { splitProxyOnly, type ProxyCredentialRule, type ProxyOnlyMark } from '../credentials/proxy-credential.js';
import { agentSocket } from '../credentials/ssh-agent.js';

/**
 * The credentials step of `mino run`: what a session gets from the host, decided from the flags,
 * the configuration and mino's environment, with every value that may be a secret kept apart for
 * the session env file. Providers (gh, aws, gcloud, az) run in parallel, each with a timeout, and
 * never fail the run unless `--strict-credentials` is given; their failures come back as warnings.
 *
 * Precedence of a variable, highest first: `-e KEY=VALUE` / `-e KEY` (the later one wins),
 * provider values, config `container.env`, passed-through host values.
 */

/** The credential flags of `mino run` (undefined = the configuration decides). */
export interface CredentialFlags {
  aws?: boolean;
  gcp?: boolean;
  azure?: boolean;
  /** `--all-clouds`: aws, gcp and azure. */
  allClouds?: boolean;
  /** `--no-github` = false. */
  github?: boolean;
  /** `--strict-credentials`. */
  strict?: boolean;
  /** `--ssh-agent` = true, `--no-ssh-agent` = false. */
  sshAgent?: boolean;
  /** `--no-passthrough` = false. */
  passthrough?: boolean;
  /** `--no-shared-logins` = false. */
  shareLogins?: boolean;
  /** `--agent-settings` = true, `--no-agent-settings` = false. */
  agentSettings?: boolean;
}

/** Inputs of {@link gatherCredentials}. */
export interface GatherInput {
  flags: CredentialFlags;
  config: RunConfig | undefined;
  /** All `-e` values as given (assignments and bare names). */
  cliEnv: readonly string[];
  /** mino's environment. */
  hostEnv: NodeJS.ProcessEnv;
  homeDir: string;
  stateDir: string;
  stateKey: string;
  /**
   * Credentials to keep out of the sandbox (proxy-only); the egress proxy serves them. Undefined:
   * the session has no egress proxy, so the built-in ones go in as they are and the user's own
   * `[credentials.NAME]` are not passed at all.
   */
  proxyOnly?: readonly ProxyOnlyMark[];
  /** `network.upstream_ca`, read and checked (run-level: session-tls.ts). */
  upstreamCa?: readonly string[];
  /** Process runner for the providers (tests). */
  run?: Runner;
  now?: () => Date;
}

/** What a session gets. Only `secretValues` and `proxyValues` hold secrets: never log or store them. */
export interface GatheredCredentials {
  /** Values for the session env file, by variable name. */
  secretValues: Map<string, string>;
  /** Harmless host values passed through (LANG, TZ, TERM...). */
  hostEnv: Record<string, string>;
  /** Plain values of the providers (AWS_REGION...). */
  providerEnv: Record<string, string>;
  /** Providers that delivered (for the audit log and the session record). */
  providers: ProviderName[];
  /** Host variables passed through (names). */
  passthrough: string[];
  /** The checked host SSH agent socket, when forwarding is on. */
  sshAgentSocket: string | undefined;
  /** Shared agent logins volume name, when sharing is on. */
  loginsVolume: string | undefined;
  hostSettings: HostSettingsItem[];
  /** Host path of the CA bundle for sessions. */
  caBundle: string | undefined;
  proxyRules: ProxyCredentialRule[];
  /** placeholder -> real value, for the egress proxy only. */
  proxyValues: Map<string, string>;
  /** CA certificates (PEM) for upstream servers of terminated hosts (`network.upstream_ca`). */
  upstreamCa: string[];
  /** Warnings for the user (never containing a value). */
  warnings: string[];
}

/** Which providers are on, from flags over config. Throws a UsageError for conflicting flags. */
export function enabledProviders(
  flags: CredentialFlags,
  config: RunConfig | undefined,
  hostEnv: NodeJS.ProcessEnv,
): CredentialProvider[] {
  if (flags.allClouds && (flags.aws || flags.gcp || flags.azure)) {
    throw new UsageError(
      '--all-clouds cannot be combined with --aws, --gcp or --azure',
      'Use --all-clouds alone, or name the clouds',
    );
  }
  const c = config?.credentials;
  const providers: CredentialProvider[] = [];
  const githubFlag = flags.github;
  if (githubFlag ?? c?.github.enabled ?? true) {
    providers.push(githubProvider({ host: c?.github.host ?? 'github.com', explicit: githubFlag === true }));
  }
  const on = (flag: boolean | undefined, configured: boolean | undefined): { on: boolean; explicit: boolean } => {
    const explicit = Boolean(flags.allClouds || flag);
    return { on: explicit || Boolean(configured), explicit: explicit || Boolean(configured) };
  };
  const aws = on(flags.aws, c?.aws.enabled);
  if (aws.on) {
    providers.push(
      awsProvider({
        sessionDurationSecs: c?.aws.session_duration_secs ?? 3600,
        roleArn: c?.aws.role_arn,
        externalId: c?.aws.external_id,
        profile: c?.aws.profile,
        region: c?.aws.region,
        explicit: aws.explicit,
        hostProfile: hostEnv.AWS_PROFILE,
      }),
    );
  }
  const gcp = on(flags.gcp, c?.gcp.enabled);
  if (gcp.on) {
    providers.push(
      gcpProvider({
        project: c?.gcp.project,
        serviceAccount: c?.gcp.service_account,
        explicit: gcp.explicit,
        hostAccount: hostEnv.CLOUDSDK_CORE_ACCOUNT,
        hostConfigDir: hostEnv.CLOUDSDK_CONFIG,
      }),
    );
  }
  const azure = on(flags.azure, c?.azure.enabled);
  if (azure.on) {
    providers.push(
      azureProvider({
        subscription: c?.azure.subscription,
        tenant: c?.azure.tenant,
        explicit: azure.explicit,
        hostConfigDir: hostEnv.AZURE_CONFIG_DIR,
      }),
    );
  }
  return providers;
}

/** The credential cache of a state directory. */
export function credentialCacheOf(stateDir: string): CredentialCache {
  return new CredentialCache(join(stateDir, 'credentials'));
}

/** Runs the credentials step (see the module comment). */
export async function gatherCredentials(input: GatherInput): Promise<GatheredCredentials> {
  const { flags, config, hostEnv } = input;
  const warnings: string[] = [];
  const { assignments, fromHost } = splitCliEnv(input.cliEnv);
  const explicit = assignedNames(assignments);
  const providers = enabledProviders(flags, config, hostEnv);
  const sshOn = flags.sshAgent ?? config?.credentials?.ssh_agent.enabled ?? false;
  // Checked before any provider runs: a missing agent is an error, not a warning.
  const sshAgentSocket = sshOn ? agentSocket(hostEnv) : undefined;

  const outcomes = await runProviders(providers, {
    cache: credentialCacheOf(input.stateDir),
    env: hostEnv,
    run: input.run,
    now: input.now,
  });

  // Lowest first: passthrough, then providers, then `-e KEY`.
  const secretValues = new Map<string, string>();
  const hostPlain: Record<string, string> = {};
  const passthrough: string[] = [];
  if (flags.passthrough !== false) {
    const names = config?.envPassthrough ?? DEFAULT_ENV_PASSTHROUGH;
    const taken = takeFromHost(names, hostEnv);
    const configEnv = config?.env ?? {};
    for (const [k, v] of taken.plain) {
      hostPlain[k] = v;
      passthrough.push(k);
    }
    for (const [k, v] of taken.secret) {
      if (Object.hasOwn(configEnv, k)) continue; // config container.env sets it explicitly
      secretValues.set(k, v);
      passthrough.push(k);
    }
    for (const k of taken.invalid) warnings.push(`${k} is not passed through: its value contains a NUL byte`);
  }
  const providerEnv: Record<string, string> = {};
  const delivered: ProviderName[] = [];
  const failed: string[] = [];
  for (const o of outcomes) {
    if (o.status === 'failed') {
      failed.push(o.label);
      if (o.quiet) log.info(`${o.label}: ${o.message}`);
      else warnings.push(`${o.label}: ${o.message}`);
      continue;
    }
    delivered.push(o.provider);
    for (const [k, v] of Object.entries(o.credential.secretEnv)) secretValues.set(k, v);
    Object.assign(providerEnv, o.credential.plainEnv);
  }
  if (failed.length > 0 && (flags.strict || config?.credentials?.strict)) {
    throw new MinoError(
      `Credential loading failed for: ${failed.join(', ')}. Remove --strict-credentials to continue anyway.`,
      {
        hint: outcomes.flatMap((o) => (o.status === 'failed' ? [`${o.label}: ${o.message}`] : [])).join('; '),
      },
    );
  }
  // The user's own credentials come from mino's environment, like `-e NAME`, proxied only.
  const own = input.proxyOnly === undefined ? [] : (config?.customCredentials ?? []).map((c) => c.variable);
  const fromMino = takeFromHost([...own.filter((k) => !secretValues.has(k)), ...fromHost], hostEnv, {
    allSecret: true,
  });
  for (const [k, v] of fromMino.secret) secretValues.set(k, v);
  for (const k of fromMino.missing.filter((m) => !own.includes(m) || fromHost.includes(m)))
    warnings.push(`-e ${k}: ${k} is not set in mino's environment, so the session does not get it`);
  for (const k of fromMino.invalid) warnings.push(`-e ${k}: its value contains a NUL byte and cannot be passed`);
  // `-e KEY=VALUE` is the user's explicit value: it beats everything gathered here.
  for (const k of explicit) {
    secretValues.delete(k);
    delete providerEnv[k];
    delete hostPlain[k];
  }
  for (const k of fromMino.secret.keys()) delete providerEnv[k];

  const proxy = splitProxyOnly(secretValues, input.proxyOnly ?? []);
  const shareLogins = flags.shareLogins ?? config?.shareLogins ?? true;
  const settingsOn = flags.agentSettings ?? config?.hostAgentSettings ?? false;
  const settings = settingsOn ? hostAgentSettings(input.homeDir) : { items: [], skipped: [] };
  for (const path of settings.skipped)
    warnings.push(`The host's ${path} is not carried in: its path contains ':' or ','`);
  if (settingsOn && settings.items.length === 0)
    warnings.push(
      `--agent-settings: there are no agent settings under ${input.homeDir}/.claude or ${input.homeDir}/.codex to carry in`,
    );
  const caBundle = (config?.hostCaCertificates ?? true) ? safeCaBundle(input.stateDir, hostEnv, warnings) : undefined;

  return {
    secretValues: proxy.sandbox,
    hostEnv: hostPlain,
    providerEnv,
    providers: delivered,
    passthrough,
    sshAgentSocket,
    loginsVolume: shareLogins ? loginsVolumeName(input.stateKey) : undefined,
    hostSettings: settings.items,
    caBundle,
    proxyRules: proxy.rules,
    proxyValues: proxy.values,
    upstreamCa: [...(input.upstreamCa ?? [])],
    warnings,
  };
}

function safeCaBundle(stateDir: string, env: NodeJS.ProcessEnv, warnings: string[]): string | undefined {
  try {
    return writeSessionCaBundle(stateDir, env);
  } catch (err) {
    warnings.push(`The host's CA certificates are not carried in: ${(err as Error).message}`);
    return undefined;
  }
}
