import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { rebasePaths } from '../common/rebase-paths.js';
import { LABEL_CACHES_FINALIZE } from '../cache/cache-labels.js';
import { CA_BUNDLE_TARGET, SYSTEM_CA_BUNDLE_TARGET } from '../credentials/host-ca-bundle.js';
import { egressPathsOf } from '../network/egress-paths.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import {
  LABEL_ENGINE,
  LABEL_MODE,
  LABEL_OWNER_PID,
  LABEL_POOL,
  LABEL_POOL_EXPIRES,
  LABEL_SESSION,
} from '../session/session-labels.js';
import { compareText } from '../common/compare-text.js';

/**
 * The pool key: a hash of everything that makes two session containers differ (image, mounts,
 * user mapping, network, limits, capabilities, environment, workdir, labels of project, state
 * directory, volumes and caches…), taken from the run plan's container spec. What differs between
 * two runs of the same plan (session name, owner PID, command, terminal) is left out. A run only
 * gets a warm container whose key equals its own, never one with another image or other mounts.
 *
 * A contained run (an allowlist or learn mode, network/egress-plan.ts) keys its network mode and
 * the proxy's listener, not its rules and not its session's own egress directory: each warm
 * container has a proxy of its own that allows nothing until a run claims the container and
 * hands it that run's policy (pool/warm-egress.ts).
 *
 * A contained run whose proxy terminates TLS (credentials kept at the proxy, or HTTPS rules on
 * method and path) keys that too, but not what is its session's own: the placeholders of its
 * credentials (variables the command gets when it runs) and its CA bundle's file (each warm
 * container trusts a CA of its own, made when it was warmed; the claim hands its proxy the
 * run's credentials, pool/warm-tls.ts).
 *
 * A contained run on a remote engine (launch/remote-plan.ts) keys its network as
 * {@link REMOTE_EGRESS_NET_PLACEHOLDER}, not the network of its session's own: each warm container
 * there has a proxy and an internal network of its own (pool/remote-warm-egress.ts), claimed with it;
 * a terminating one keys its session's CA bundle secret as {@link REMOTE_POOL_CA_PLACEHOLDER}.
 *
 * Pure: no I/O. The image is keyed by reference; the image ID a warm container was started from
 * is checked when a run claims it (see pooled-run.ts), so a rebuilt image never serves old runs.
 */

/** Bump when the warm container's contract changes (old warm containers then never match). */
const KEY_FORMAT = 1;

/** Spec fields that are per run, not per container: left out of the key. */
const PER_RUN_FIELDS = new Set<keyof ContainerSpec>(['name', 'command', 'interactive', 'tty', 'autoRemove', 'labels']);

/** Spec fields the pool knows how to prepare in advance; any other field makes a plan unpoolable. */
const POOLABLE_FIELDS = new Set<string>([
  'image',
  'command',
  'name',
  'labels',
  'workdir',
  'network',
  'capDrop',
  'capAdd',
  'securityOpt',
  'pidsLimit',
  'ulimits',
  'readOnly',
  'tmpfs',
  'mounts',
  'env',
  'pullNever',
  'userns',
  'uidMap',
  'gidMap',
  'user',
  'groupAdd',
  'hostname',
  'init',
  'interactive',
  'tty',
  'autoRemove',
  'stopTimeout',
  'devDir',
]);

/**
 * Labels that belong to one run, never on a warm container, never in the key: session, owner,
 * mode, and which caches this run completes when its command exits 0 (the first successful run
 * completes them; the mounts stay the same, so the runs after it must still find the pool).
 */
export const PER_RUN_LABELS: readonly string[] = [LABEL_SESSION, LABEL_OWNER_PID, LABEL_MODE, LABEL_CACHES_FINALIZE];

/** What a plan needs from the pool: its key, or why the pool cannot serve it. */
export type Poolability = { poolable: true; key: string } | { poolable: false; reason: string };

/** What the key keeps of a contained run's egress: its mode and the proxy's listener, never its rules. */
export interface EgressKey {
  mode: string;
  listen: { host: string; port: number };
  /** The proxy terminates TLS (see the module comment). */
  tls?: boolean;
  /** The extra CAs (PEM) a terminating proxy verifies upstream servers against (keyed by digest). */
  upstreamCa?: readonly string[];
}

/** The part of a run plan the pool looks at. */
export interface PoolablePlan {
  mode: 'detached' | 'command' | 'shell';
  spec: ContainerSpec;
  /**
   * Secret variables the session env file sets (credentials/session-env-file.ts): one file per
   * session; credentials kept at the proxy (their placeholders are per session); a CA of the
   * session's own (launch/plan-credentials.ts).
   */
  credentials?: {
    secretVariables: readonly string[];
    proxy?: readonly { variable: string }[];
    sessionCa?: boolean;
    /** `network.upstream_ca`'s certificates (PEM): part of a terminating plan's key. */
    upstreamCa?: readonly string[];
  };
  /** A contained run's egress plan (network/egress-plan.ts): its mode, directory and listener. */
  network?: { egress?: EgressKey & { dir: string } };
  /** A branch session's branch (launch/run-plan.ts): its key leaves the working copy's folder out, see branchNeutralSpec. */
  branch?: { name: string };
  /** The project directory (a branch session's working copy). */
  projectDir?: string;
}

/**
 * What a branch plan's key and pool record have in place of the working copy's base folder
 * (`<data>/branches/<repo>/<NAME>`): a warm container of a branch plan mounts a folder of its own
 * there (workspace/warm-copy.ts), which the claiming run fills with its copy, so one warm
 * container serves any branch of the repository.
 */
const BRANCH_BASE_PLACEHOLDER = '/@mino-branch-base';

/** `spec` of a branch plan whose working copy is `copy`, with its base folder as {@link BRANCH_BASE_PLACEHOLDER}. */
export function branchNeutralSpec(spec: ContainerSpec, copy: string): ContainerSpec {
  return rebasePaths(spec, dirname(copy), BRANCH_BASE_PLACEHOLDER);
}

/** A neutral branch spec (pool record) with the placeholder as the warm folder `base`. */
export function placeBranchBase(spec: ContainerSpec, base: string): ContainerSpec {
  return rebasePaths(spec, BRANCH_BASE_PLACEHOLDER, base);
}

/**
 * Whether the pool could serve a run of `plan`, and its key. Only runs of a command attached to
 * mino are poolable: a detached session's command is its container's main process, and a shell
 * session shows its bootstrap on the terminal. A plan with per-session resources (secrets, env
 * files, or any container field the pool does not know) is not poolable.
 */
export function poolabilityOf(plan: PoolablePlan): Poolability {
  if (plan.mode === 'detached')
    return { poolable: false, reason: "a detached session (-d) runs its command as the container's main process" };
  if (plan.mode === 'shell')
    return { poolable: false, reason: 'a shell session shows its start-up on the terminal; give a command' };
  let spec = plan.spec;
  if (plan.branch !== undefined) {
    if (plan.projectDir === undefined)
      return { poolable: false, reason: 'a branch session whose working copy is not known' };
    spec = branchNeutralSpec(spec, plan.projectDir);
  }
  // A remote plan's public CA bundle (the host's CAs): the engine's one secret of that content.
  const ownFiles = (spec.secretFiles ?? []).filter((f) => !(f.public === true && onEngine(plan)));
  if ((spec.secretEnv?.length ?? 0) > 0 || ownFiles.length > 0)
    return { poolable: false, reason: 'it passes credentials made for this session' };
  if ((plan.credentials?.secretVariables.length ?? 0) > 0)
    return { poolable: false, reason: 'it passes secrets in a file made for this session' };
  if ((spec.envFiles?.length ?? 0) > 0)
    return { poolable: false, reason: 'it passes an environment file made for this session' };
  const egress = plan.network?.egress;
  const tls = terminatesTls(plan);
  if (tls && !egress) return { poolable: false, reason: 'its credentials need an egress proxy made for this session' };
  const unknown = Object.keys(spec).filter(
    (k) =>
      !POOLABLE_FIELDS.has(k) &&
      !(k === 'hooksDirs' && egress) &&
      !(k === 'sysctls' && egress && remoteContained(plan)) &&
      !(k === 'secretFiles' && onEngine(plan)) &&
      (spec as unknown as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown.length > 0)
    return { poolable: false, reason: `it needs per-session container settings (${unknown.sort().join(', ')})` };
  const keyed = keyedSpecOf({ spec, network: plan.network, credentials: plan.credentials });
  const upstreamCa = tls ? plan.credentials?.upstreamCa : undefined;
  return { poolable: true, key: poolKeyOf(keyed, egress && { ...egress, tls, ...(upstreamCa ? { upstreamCa } : {}) }) };
}

/** Whether a plan's proxy terminates TLS: credentials kept at the proxy, or a CA of the session's own. */
export function terminatesTls(plan: Pick<PoolablePlan, 'credentials'>): boolean {
  return (plan.credentials?.proxy?.length ?? 0) > 0 || plan.credentials?.sessionCa === true;
}

/**
 * What a terminating plan's key and pool record have in place of its CA bundle's file: each
 * warm container mounts a bundle of its own there (pool/warm-tls.ts).
 */
export const SESSION_CA_PLACEHOLDER = '/@mino-session-ca';

/** Mount targets of a session's CA bundle (launch/plan-credentials.ts). */
const CA_TARGETS = new Set([CA_BUNDLE_TARGET, SYSTEM_CA_BUNDLE_TARGET]);

/** A neutral spec (pool record) with the placeholder CA bundle as the warm container's file `bundle`. */
export function placeSessionCa(spec: ContainerSpec, bundle: string): ContainerSpec {
  if (!spec.mounts?.some((m) => m.source === SESSION_CA_PLACEHOLDER)) return spec;
  return {
    ...spec,
    mounts: spec.mounts.map((m) => (m.source === SESSION_CA_PLACEHOLDER ? { ...m, source: bundle } : m)),
  };
}

/**
 * What a remote contained plan's key and pool record have in place of its session's network: each
 * warm container is on the network of its own warm proxy (pool/remote-warm-egress.ts).
 */
export const REMOTE_EGRESS_NET_PLACEHOLDER = '@mino-remote-egress-net';

/**
 * What a remote terminating plan's key and pool record have in place of its session's CA bundle
 * secret: the warm containers of the pool mount the bundle secret of the pool's CA
 * (pool/remote-warm-tls.ts).
 */
const REMOTE_POOL_CA_PLACEHOLDER = '@mino-pool-ca';

/** A pool record's spec with the pool CA's bundle secret `secret` in place of the placeholder. */
export function placeRemotePoolCa(spec: ContainerSpec, secret: string): ContainerSpec {
  if (!spec.secretFiles?.some((f) => f.secret === REMOTE_POOL_CA_PLACEHOLDER)) return spec;
  return {
    ...spec,
    secretFiles: spec.secretFiles.map((f) => (f.secret === REMOTE_POOL_CA_PLACEHOLDER ? { ...f, secret } : f)),
  };
}

/** Whether `plan` was made for a remote engine (launch/remote-plan.ts). */
function onEngine(plan: Pick<PoolablePlan, 'spec'>): boolean {
  return plan.spec.labels?.[LABEL_ENGINE] !== undefined;
}

/** Whether `plan` is a contained run on a remote engine (its proxy runs there: network/remote-egress.ts). */
function remoteContained(plan: Pick<PoolablePlan, 'spec' | 'network'>): boolean {
  return plan.network?.egress !== undefined && plan.spec.labels?.[LABEL_ENGINE] !== undefined;
}

/** The variables a run of `plan` sets on top of its warm container's environment: its credentials' placeholders. */
export function perRunEnvOf(plan: Pick<PoolablePlan, 'spec' | 'credentials'>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const c of plan.credentials?.proxy ?? []) {
    const value = plan.spec.env?.[c.variable];
    if (value !== undefined) env[c.variable] = value;
  }
  return env;
}

/**
 * The container spec of a plan as the pool keeps it: a contained run's spec without its
 * session's own hook directory (each warm container gets its proxy's, warm-egress.ts), and a
 * terminating one's without its placeholders and with {@link SESSION_CA_PLACEHOLDER} as its CA
 * bundle's file.
 */
export function keyedSpecOf(plan: Pick<PoolablePlan, 'spec' | 'network' | 'credentials'>): ContainerSpec {
  const egress = plan.network?.egress;
  // On a remote engine the public CA bundle secret (the host's CAs) is named after its content
  // (engine/engine-ca-secrets.ts): keyed as it is, the same for every run of the plan. A session
  // CA's is the session's own: keyed as REMOTE_POOL_CA_PLACEHOLDER (the pool CA's, remote-warm-tls.ts).
  const base =
    onEngine(plan) && plan.credentials?.sessionCa && plan.spec.secretFiles
      ? {
          ...plan.spec,
          secretFiles: plan.spec.secretFiles.map((f) => (f.public ? { ...f, secret: REMOTE_POOL_CA_PLACEHOLDER } : f)),
        }
      : plan.spec;
  if (!egress) return base;
  const own = egressPathsOf(egress.dir).hooksDir;
  const spec: ContainerSpec = { ...base, hooksDirs: (base.hooksDirs ?? []).filter((d) => d !== own) };
  if (remoteContained(plan)) spec.network = REMOTE_EGRESS_NET_PLACEHOLDER;
  if (!terminatesTls(plan)) return spec;
  const perRun = new Set((plan.credentials?.proxy ?? []).map((c) => c.variable));
  if (spec.env) spec.env = Object.fromEntries(Object.entries(spec.env).filter(([k]) => !perRun.has(k)));
  if (plan.credentials?.sessionCa && spec.mounts)
    spec.mounts = spec.mounts.map((m) => (CA_TARGETS.has(m.target) ? { ...m, source: SESSION_CA_PLACEHOLDER } : m));
  return spec;
}

/** The part of an egress plan (or of a pool's record of it) the key keeps; undefined for none. */
function egressKeyOf(egress: EgressKey | undefined): Record<string, unknown> | undefined {
  if (!egress) return undefined;
  const upstream = egress.upstreamCa?.length
    ? createHash('sha256').update(JSON.stringify(egress.upstreamCa)).digest('hex')
    : undefined;
  return {
    mode: egress.mode,
    listen: { host: egress.listen.host, port: egress.listen.port },
    ...(egress.tls ? { tls: true } : {}),
    ...(egress.tls && upstream ? { upstreamCa: upstream } : {}),
  };
}

/**
 * The key of a container spec (24 hex digits), with a contained run's egress key; see the
 * module comment.
 */
export function poolKeyOf(spec: ContainerSpec, egress?: EgressKey): string {
  const keyed: Record<string, unknown> = {};
  for (const field of Object.keys(spec).sort() as (keyof ContainerSpec)[]) {
    if (PER_RUN_FIELDS.has(field) || spec[field] === undefined) continue;
    keyed[field] = spec[field];
  }
  // The pool's own labels are not part of what a run asks for.
  const ignored = new Set([...PER_RUN_LABELS, LABEL_POOL, LABEL_POOL_EXPIRES]);
  keyed.labels = Object.fromEntries(
    Object.entries(spec.labels ?? {})
      .filter(([k]) => !ignored.has(k))
      .sort(([a], [b]) => compareText(a, b)),
  );
  if (egress) keyed.egress = egressKeyOf(egress);
  return createHash('sha256')
    .update(JSON.stringify([KEY_FORMAT, canonical(keyed)]))
    .digest('hex')
    .slice(0, 24);
}

/** `value` with object keys sorted at every level (arrays keep their order: it matters to podman). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * The supplementary groups a warm container is started with so that a command `podman exec`
 * starts in it has the groups a cold run's command has. Podman gives a container's main process
 * its non-root user's primary group as a supplementary group, but never an exec'd process unless
 * the container was started with `--group-add`. `imageUser`/`imageGid` are the ids mino knows the image runs
 * as (mino images: 1000:1000; other images: an explicit `uid:gid` USER), `configUser` the image's `Config.User`. A problem
 * (not poolable) when the image runs as a user whose group mino does not know.
 */
export function warmGroupsFor(
  imageUser: number | undefined,
  imageGid: number | undefined,
  configUser: string,
): { groups: string[] } | { problem: string } {
  if (imageUser === 0) return { groups: [] };
  if (imageUser !== undefined && imageGid !== undefined) return { groups: [String(imageGid)] };
  if (configUser === '' || configUser === 'root' || /^0(:0)?$/.test(configUser)) return { groups: [] };
  return {
    problem: `the image runs as user ${configUser || String(imageUser)}, whose group mino does not know, and a command started in a running container would lack the supplementary group a new container's command gets`,
  };
}
