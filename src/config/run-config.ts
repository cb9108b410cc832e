import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { OWN_CREDENTIAL_KEYS } from './config-keys.js';
import { parseCustomCredential, type CustomCredential, type MinoConfig } from './config-schema.js';
import type { EffectiveConfig } from './effective-config.js';
import { valueAt } from './merge-config.js';

/**
 * The configuration values `mino run` takes, reduced to those a file actually sets: a key left at
 * its schema default keeps `mino run`'s own default (e.g. the shell the image has). The run path
 * applies them below CLI flags and environment variables.
 */

/** Configuration inputs of a run (all optional: unset = the run's own default). */
export interface RunConfig {
  /** `container.image`. */
  image?: string;
  /** `container.layers`. */
  layers?: string[];
  /** `container.env` (above the layers' env, below `-e`). */
  env?: Record<string, string>;
  /** `container.volumes`. */
  volumes?: string[];
  /** `container.network`. */
  network?: string;
  /** `container.network_allow`. */
  networkAllow?: string[];
  /** `container.network_preset`. */
  networkPreset?: string;
  /** `container.workdir`. */
  workdir?: string;
  /** `container.read_only`. */
  readOnly?: boolean;
  /** `session.shell`. */
  shell?: string;
  /** `home.enabled`. */
  home?: boolean;
  /** `cache.enabled`: lockfile-keyed dependency caches. */
  cache?: boolean;
  /** `cache.max_total_gb`: disk budget of caches and composed images (0 = none). */
  cacheMaxTotalGb?: number;
  /** `[credentials.*]`, always, with its defaults (providers, GitHub host, SSH agent, strict). */
  credentials?: MinoConfig['credentials'];
  /** `[credentials.NAME]` tables of the user's own (credentials kept at the proxy). */
  customCredentials?: Array<{ name: string } & CustomCredential>;
  /** `network.upstream_ca`: CA files for upstream servers of terminated hosts. */
  upstreamCa?: string[];
  /** `container.env_passthrough` (its default list when no file sets it). */
  envPassthrough?: string[];
  /** `container.host_ca_certificates`. */
  hostCaCertificates?: boolean;
  /** `agent.share_logins`. */
  shareLogins?: boolean;
  /** `agent.host_settings`. */
  hostAgentSettings?: boolean;
  /** `sync.exclude`: what stays on a remote engine. */
  syncExclude?: string[];
  /** `engine.name`: the engine runs use. */
  engine?: string;
  /** `protect.paths` of both files together (a project file adds to the user's, never replaces). */
  protectPaths?: string[];
  /** `protect.unprotect`, from the user's own config file only (a project file cannot lift protections). */
  protectUnprotect?: string[];
  /** True when a project file sets `protect.unprotect` (ignored, with a warning). */
  projectUnprotectIgnored?: boolean;
  /**
   * The directory the layer resolver gets as `projectDir`: the trusted snapshot of the project's
   * `.mino/layers`, or undefined (project layers untrusted or absent).
   */
  layerProjectDir: string | undefined;
}

/** The run inputs of a loaded configuration. */
export function runConfigOf(eff: EffectiveConfig): RunConfig {
  const set = (path: string): boolean => eff.sources[path] !== 'default';
  const { container, session, home, cache, credentials, agent } = eff.config;
  return {
    ...(set('container.image') && container.image !== undefined ? { image: container.image } : {}),
    ...(set('container.layers') ? { layers: container.layers } : {}),
    ...(set('container.env') ? { env: container.env } : {}),
    ...(set('container.volumes') ? { volumes: container.volumes } : {}),
    ...(set('container.network') ? { network: container.network } : {}),
    ...(set('container.network_allow') ? { networkAllow: container.network_allow } : {}),
    ...(set('container.network_preset') && container.network_preset !== undefined
      ? { networkPreset: container.network_preset }
      : {}),
    ...(set('container.workdir') ? { workdir: container.workdir } : {}),
    ...(set('container.read_only') ? { readOnly: container.read_only } : {}),
    ...(set('session.shell') ? { shell: session.shell } : {}),
    ...(set('home.enabled') ? { home: home.enabled } : {}),
    ...(set('cache.enabled') ? { cache: cache.enabled } : {}),
    ...(set('cache.max_total_gb') ? { cacheMaxTotalGb: cache.max_total_gb } : {}),
    // Whole, with its defaults: a provider reads several of its keys together.
    credentials,
    ...customCredentialsOf(credentials),
    ...(eff.config.network.upstream_ca.length > 0 ? { upstreamCa: eff.config.network.upstream_ca } : {}),
    ...(set('container.env_passthrough') ? { envPassthrough: container.env_passthrough } : {}),
    ...(set('container.host_ca_certificates') ? { hostCaCertificates: container.host_ca_certificates } : {}),
    ...(set('agent.share_logins') ? { shareLogins: agent.share_logins } : {}),
    ...(set('agent.host_settings') ? { hostAgentSettings: agent.host_settings } : {}),
    ...(set('sync.exclude') ? { syncExclude: eff.config.sync.exclude } : {}),
    ...(set('engine.name') && eff.config.engine.name !== undefined ? { engine: eff.config.engine.name } : {}),
    ...protectOf(eff),
    layerProjectDir: eff.trust.projectLayersDir,
  };
}

/**
 * The `[credentials.NAME]` tables (any table of `[credentials]` mino has no key for), checked: a
 * bad one is a usage error naming the table and the problem, never a value.
 */
function customCredentialsOf(credentials: MinoConfig['credentials']): Pick<RunConfig, 'customCredentials'> {
  const out: Array<{ name: string } & CustomCredential> = [];
  for (const [name, value] of Object.entries(credentials)) {
    if (OWN_CREDENTIAL_KEYS.has(name)) continue;
    const parsed = parseCustomCredential(value);
    if (!parsed.ok)
      throw new UsageError(
        `Invalid [credentials.${printable(name)}] in the configuration: ${parsed.problems.join('; ')}`,
        'Write variable = "NAME", hosts = ["api.example.com"], and optionally header = "authorization", prefix = "Bearer "',
      );
    out.push({ name, ...parsed.credential });
  }
  const byVariable = new Map<string, string>();
  for (const c of out) {
    const other = byVariable.get(c.variable);
    if (other !== undefined)
      throw new UsageError(
        `[credentials.${printable(other)}] and [credentials.${printable(c.name)}] both set ${c.variable}: one variable gets one placeholder`,
        'Keep one table per variable (list every host it is for in its hosts)',
      );
    byVariable.set(c.variable, c.name);
  }
  return out.length > 0 ? { customCredentials: out } : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** `[protect]`: paths added by either file; removals only from the user's own file. */
function protectOf(
  eff: EffectiveConfig,
): Pick<RunConfig, 'protectPaths' | 'protectUnprotect' | 'projectUnprotectIgnored'> {
  const local = eff.trust.local?.raw;
  const paths = [
    ...new Set([...strings(valueAt(eff.global?.raw, 'protect.paths')), ...strings(valueAt(local, 'protect.paths'))]),
  ];
  const unprotect = strings(valueAt(eff.global?.raw, 'protect.unprotect'));
  return {
    ...(paths.length > 0 ? { protectPaths: paths } : {}),
    ...(unprotect.length > 0 ? { protectUnprotect: unprotect } : {}),
    ...(valueAt(local, 'protect.unprotect') !== undefined ? { projectUnprotectIgnored: true } : {}),
  };
}
