import * as z from 'zod/mini';
import { isValidLayerName } from '../layer/layer-name.js';
import { isValidAnyRule } from '../network/l7-rule.js';
import { isValidPresetList } from '../network/presets.js';
import { credentialHostProblem } from '../network/rule.js';
import { validateImageRef } from '../runtime/validate.js';
import { printable } from '../common/printable.js';
import { volumeSpecProblem } from '../volume/volume-spec.js';
import { protectPathProblem } from '../protect/protect-rules.js';
import {
  DEFAULT_AUTO_CLEANUP_HOURS,
  DEFAULT_CACHE_GC_DAYS,
  DEFAULT_CACHE_MAX_TOTAL_GB,
  DEFAULT_ENV_PASSTHROUGH,
  DEFAULT_DETACH_TIMEOUT_SECS,
  DEFAULT_IDLE_TIMEOUT_SECS,
  DEFAULT_SUSPEND_TIMEOUT_SECS,
  DEFAULT_WORKDIR,
  MAX_SESSION_TIMEOUT_SECS,
} from './defaults.js';

/**
 * The one source of truth for mino's configuration (`config.toml` and `.mino.toml`): every key,
 * its type, its validation, its default, whether a project file needs the user's trust to set it,
 * and the line of documentation `config show`, `config init`, `mino init` and completions use.
 * mino 1.6's tables (`[general]`, `[vm]`, `[container]`, `[credentials.*]`, `[session]`,
 * `[cache]`, `[home]`) plus `[image] base_from`. Every table is strict: unknown keys are errors.
 * The schema is built on first use ({@link configSchema}), so commands that never read the
 * configuration do not pay for it.
 */

/** What the schema records about a leaf key besides its type. */
export interface KeyMeta {
  /** One line for people (`config show`, templates). */
  doc: string;
  /**
   * False only for keys that cannot widen what a session may reach; a project `.mino.toml`
   * setting any other key needs the user's trust first.
   */
  sensitive: boolean;
}

/** Registry of leaf-key metadata, keyed by the leaf's zod schema. */
export const keyMeta = z.registry<KeyMeta>();

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ABS_PATH = /^\/[A-Za-z0-9._/+@-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function line(max = 256): z.ZodMiniString<string> {
  return z.string().check(
    z.maxLength(max, `must be at most ${max} characters`),
    z.refine((v) => !CONTROL.test(v), 'must not contain newlines or other control characters'),
  );
}

function pattern(re: RegExp, what: string): z.ZodMiniString<string> {
  return z.string().check(z.regex(re, what));
}

function imageRef(): z.ZodMiniString<string> {
  return z.string().check(
    z.refine((v) => {
      try {
        validateImageRef(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be an image reference such as localhost/mino-base:latest'),
  );
}

/** A volume specification, checked with the rules of `--volume` (volume/volume-spec.ts). */
function volumeSpec(): z.ZodMiniString<string> {
  return line(4096).check(
    z.refine((v) => volumeSpecProblem(v) === undefined, {
      error: (issue) =>
        `must be HOST:CONTAINER[:ro|:rw] with absolute paths (${volumeSpecProblem(String(issue.input)) ?? 'invalid'})`,
    }),
  );
}

/** A protected path relative to the project (protect/protect-rules.ts). */
function protectPath(): z.ZodMiniString<string> {
  return z.string().check(
    z.refine((v) => protectPathProblem(v) === undefined, {
      error: (issue) =>
        `must be a path relative to the project, such as .husky/ or Makefile (${protectPathProblem(String(issue.input)) ?? 'invalid'})`,
    }),
  );
}

function int(min: number, max: number): z.ZodMiniNumber<number> {
  return z.int().check(z.minimum(min, `must be at least ${min}`), z.maximum(max, `must be at most ${max}`));
}

function list<T extends z.ZodMiniType>(item: T) {
  return z.array(item).check(z.maxLength(256, 'has too many entries'));
}

/** A leaf with a default. */
function key<T extends z.ZodMiniType>(schema: T, fallback: z.output<T>, doc: string, sensitive = true) {
  const leaf = z._default(schema, fallback as never);
  keyMeta.add(leaf, { doc, sensitive });
  return leaf;
}

/** A leaf without a default (unset unless a file sets it). */
function opt<T extends z.ZodMiniType>(schema: T, doc: string, sensitive = true) {
  const leaf = z.optional(schema);
  keyMeta.add(leaf, { doc, sensitive });
  return leaf;
}

/**
 * A credential of the user's own, `[credentials.NAME]`: the variable the sandbox gets a placeholder
 * in, the hosts whose requests get the real value (in `header`, after `prefix`). It never enters
 * the sandbox when the session has an egress proxy. Checked by {@link parseCustomCredential} when
 * a run reads it (the `[credentials]` table takes any other table as one).
 */
function customCredential() {
  return z.strictObject({
    variable: pattern(ENV_KEY, 'must be a variable name (letters, digits, _; not starting with a digit)'),
    hosts: list(
      z.string().check(
        z.refine((v) => credentialHostProblem(v) === undefined, {
          error: (issue) =>
            `must be a host name or *.DOMAIN, optionally with :PORT (${credentialHostProblem(String(issue.input)) ?? 'invalid'})`,
        }),
      ),
    ).check(z.minLength(1, 'must name at least one host (a credential bound to no host is useless)')),
    header: z._default(
      pattern(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name (letters, digits, -)'),
      'authorization',
    ),
    prefix: z._default(line(64), 'Bearer '),
  });
}

/** A `[credentials.NAME]` table of the user's. */
export type CustomCredential = z.output<ReturnType<typeof customCredential>>;

/** Checks a `[credentials.NAME]` table: the credential, or the problems (never the value). */
export function parseCustomCredential(
  value: unknown,
): { ok: true; credential: CustomCredential } | { ok: false; problems: string[] } {
  const r = z.safeParse(customCredential(), value);
  if (r.success) return { ok: true, credential: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown key ${i.keys.map((k) => `'${printable(k)}'`).join(', ')} (a secret's value never goes in the configuration: mino takes it from its environment)`
        : `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`,
    ),
  };
}

/** `[credentials]`: its own keys; any other table is a user's credential ({@link customCredential}). */
function credentialsTable<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.prefault(z.catchall(z.strictObject(shape), z.unknown()), {} as never);
}

/** A table whose missing keys take their defaults. */
function table<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.prefault(z.strictObject(shape), {} as never);
}

function build() {
  return z.strictObject({
    general: table({
      verbose: key(z.boolean(), false, 'unused; kept for mino 1.6 files (use -v)', false),
      log_format: key(z.enum(['text', 'json']), 'text', 'unused; kept for mino 1.6 files', false),
      audit_log: key(z.boolean(), true, 'append session events to $XDG_STATE_HOME/mino/audit.log'),
      update_check: key(z.boolean(), true, 'look for new mino versions', false),
      runtime: key(
        z.enum(['container', 'native', 'auto']),
        'container',
        'container (Podman) or native; auto = container',
      ),
    }),
    vm: table({
      name: key(
        pattern(NAME, "must be a machine name (letters, digits, '.', '_', '-')"),
        'mino',
        'OrbStack machine name (macOS)',
      ),
      distro: key(
        pattern(NAME, "must be a distribution name (letters, digits, '.', '_', '-')"),
        'fedora',
        'OrbStack machine distribution (macOS)',
      ),
    }),
    container: table({
      image: opt(imageRef(), 'image to run as is (default: the mino base image, or layers)'),
      layers: key(
        list(z.string().check(z.refine(isValidLayerName, 'must be a layer name (letters, digits, _ and -)'))),
        [],
        'layers composed on the mino base image, e.g. ["typescript"]',
      ),
      env: key(
        z.record(
          pattern(ENV_KEY, 'must be a variable name (letters, digits, _; not starting with a digit)'),
          line(4096),
        ),
        {},
        'environment variables for every session',
      ),
      env_passthrough: key(
        list(pattern(ENV_KEY, 'must be a variable name (letters, digits, _; not starting with a digit)')),
        [...DEFAULT_ENV_PASSTHROUGH],
        'host variables passed to every session when set (secrets never on the podman command line)',
      ),
      host_ca_certificates: key(
        z.boolean(),
        true,
        "carry the host's extra CA certificates into every session (TLS-intercepting proxies)",
        false,
      ),
      volumes: key(
        list(volumeSpec()),
        [],
        'bind mounts HOST:CONTAINER[:ro|:rw], absolute paths (or VOLUME:CONTAINER for a named volume)',
      ),
      network: opt(
        z.enum(['bridge', 'host', 'none', 'learn']),
        'network mode: bridge, host, none or learn (everything allowed and recorded); unset: contained (an allowlist of the agent preset)',
      ),
      network_allow: key(
        list(
          z
            .string()
            .check(
              z.refine(
                isValidAnyRule,
                "must be HOST:PORT, [IPV6]:PORT or *.DOMAIN:PORT (port 1-65535; host.containers.internal:PORT for host services), or METHODS HOST[:PORT]/PATH (e.g. 'GET,HEAD api.github.com/repos/OWNER/*')",
              ),
            ),
        ),
        [],
        'outbound allowlist: HOST:PORT rules and HTTPS rules on method and path, enforced by a proxy outside the container',
      ),
      network_preset: opt(
        z
          .string()
          .check(
            z.refine(isValidPresetList, 'must be agent, dev, registries or github-readonly (several: comma-separated)'),
          ),
        'allowlist presets: agent, dev, registries or github-readonly, comma-separated (registry hosts from your npm/pip/cargo configuration)',
      ),
      workdir: key(
        pattern(ABS_PATH, "must be an absolute path of letters, digits and '._/+@-'"),
        DEFAULT_WORKDIR,
        'project path in the container (/workspace = /<project folder name>)',
      ),
      read_only: key(z.boolean(), false, 'read-only root filesystem', false),
    }),
    network: table({
      upstream_ca: key(
        list(pattern(ABS_PATH, "must be an absolute path of letters, digits and '._/+@-'")),
        [],
        'CA certificate files (PEM) to trust for upstream servers of terminated hosts (corporate TLS proxies)',
      ),
    }),
    image: table({
      base_from: opt(imageRef(), 'parent image of mino-base (mino setup)'),
    }),
    credentials: credentialsTable({
      strict: key(
        z.boolean(),
        false,
        'fail the run when an enabled credential provider fails (like --strict-credentials)',
      ),
      aws: table({
        enabled: key(z.boolean(), false, 'pass short-lived AWS credentials'),
        session_duration_secs: key(int(900, 43200), 3600, 'AWS session duration in seconds'),
        role_arn: opt(line(), 'AWS role to assume'),
        external_id: opt(line(), 'AWS external id for the role'),
        profile: opt(line(), 'AWS CLI profile'),
        region: opt(line(64), 'AWS region'),
      }),
      gcp: table({
        enabled: key(z.boolean(), false, 'pass a short-lived GCP access token'),
        project: opt(line(), 'GCP project'),
        service_account: opt(line(), 'GCP service account to impersonate'),
      }),
      azure: table({
        enabled: key(z.boolean(), false, 'pass a short-lived Azure access token'),
        subscription: opt(line(), 'Azure subscription'),
        tenant: opt(line(), 'Azure tenant'),
      }),
      github: table({
        enabled: key(z.boolean(), true, 'pass the gh CLI token as GH_TOKEN/GITHUB_TOKEN (--no-github turns it off)'),
        host: key(
          pattern(/^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/, 'must be a host name'),
          'github.com',
          'GitHub host for the gh token',
        ),
      }),
      ssh_agent: table({
        enabled: key(z.boolean(), false, "forward the host's SSH agent socket (like --ssh-agent)"),
      }),
    }),
    agent: table({
      share_logins: key(
        z.boolean(),
        true,
        'share agent logins (Claude Code, Codex) between all your sessions, in any project',
      ),
      host_settings: key(
        z.boolean(),
        false,
        "carry the host's Claude Code/Codex settings (CLAUDE.md, settings.json, agents, commands, skills, AGENTS.md, prompts) in read-only",
      ),
    }),
    session: table({
      shell: opt(
        pattern(ABS_PATH, 'must be an absolute path such as /bin/bash'),
        'shell for sessions started without a command (default: zsh, else bash, else sh of the image)',
      ),
      auto_cleanup_hours: key(
        int(0, 24 * 365 * 10),
        DEFAULT_AUTO_CLEANUP_HOURS,
        'hours after which stopped sessions are forgotten (0 = never)',
        false,
      ),
      idle_timeout_secs: key(
        int(0, MAX_SESSION_TIMEOUT_SECS),
        DEFAULT_IDLE_TIMEOUT_SECS,
        'stop a session with no client attached and no output for this many seconds (0 = never; global config only)',
        false,
      ),
      detach_timeout_secs: key(
        int(0, MAX_SESSION_TIMEOUT_SECS),
        DEFAULT_DETACH_TIMEOUT_SECS,
        'stop a session with no client attached for this many seconds (0 = never; global config only)',
        false,
      ),
      suspend_timeout_secs: key(
        int(0, MAX_SESSION_TIMEOUT_SECS),
        DEFAULT_SUSPEND_TIMEOUT_SECS,
        'stop a session suspended for this many seconds (0 = never; global config only)',
        false,
      ),
    }),
    cache: table({
      enabled: key(z.boolean(), true, 'lockfile-keyed dependency caches'),
      gc_days: key(int(0, 3650), DEFAULT_CACHE_GC_DAYS, 'remove caches unused for this many days'),
      max_total_gb: key(int(0, 100000), DEFAULT_CACHE_MAX_TOTAL_GB, 'total cache size limit in GB'),
    }),
    home: table({
      enabled: key(z.boolean(), true, 'persistent per-project home volume'),
    }),
    protect: table({
      paths: key(
        list(protectPath()),
        [],
        'more paths the agent may read but never change, relative to the project (a trailing / for a directory), e.g. [".husky/", "Makefile"]',
        false,
      ),
      unprotect: key(
        list(protectPath()),
        [],
        'default protected paths to leave writable (your own config.toml only; a warning on every run)',
      ),
    }),
    pool: table({
      enabled: key(z.boolean(), true, 'serve runs from warm containers (mino pool warm) and refill them'),
      min_warm: key(int(1, 100), 2, 'warm containers mino pool warm keeps when -n is not given'),
      max_warm: key(int(1, 100), 10, 'most warm containers, all pools together'),
      warm_ttl: key(int(10, 86400), 600, 'seconds an unused warm container lives before it removes itself'),
    }),
    engine: table({
      name: opt(
        pattern(/^[a-z][a-z0-9-]{0,31}$/, 'must be an engine name (see mino engine list)'),
        'the engine runs use (mino engine add; local = this machine); --engine overrides it',
      ),
    }),
    sync: table({
      exclude: key(
        list(pattern(/^[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*\/?$/, 'must be a name or a relative path')),
        [],
        'on a remote engine: names (node_modules) or project paths (build/out) left on the engine, never shipped or brought back',
      ),
    }),
  });
}

/** The configuration schema type. */
export type ConfigSchema = ReturnType<typeof build>;

/** A fully resolved configuration (every default filled in). */
export type MinoConfig = z.output<ConfigSchema>;

let schema: ConfigSchema | undefined;

/** The configuration schema, built once on first use. */
export function configSchema(): ConfigSchema {
  schema ??= build();
  return schema;
}
