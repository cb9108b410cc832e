import { basename } from 'node:path';
import { MinoError, UsageError } from '../common/errors.js';
import { SESSION_ENV_PATH } from '../credentials/session-env-file.js';
import { CA_BUNDLE_TARGET, SYSTEM_CA_BUNDLE_TARGET } from '../credentials/host-ca-bundle.js';
import type { ContainerSpec } from '../runtime/container-runtime.js';
import { LABEL_ENGINE, LABEL_STATE } from '../session/session-labels.js';
import type { RunPlan } from './run-plan.js';
import { toMountSpecs } from './volume-args.js';
import { remoteEgressNames, remoteSessionNetwork } from '../network/remote-egress.js';
import { caBundleSecretName } from '../engine/engine-ca-secrets.js';

/**
 * A RunPlan made for a remote engine (src/engine/), pure: a remote engine cannot bind-mount a
 * path of this machine, so the project directory becomes the project volume mino ships it into
 * (src/sync/), and the other host files of a local run are left out:
 * - protected paths: their read-only mounts and stand-ins are not needed there; instead the
 *   return trip never brings back a change to one of them (`protectedPaths`);
 * - the git excludes file of the stand-ins, with the variables that point at it.
 * - the CA bundle (public): a podman secret on the engine instead, mounted read-only (0444) at
 *   the same paths, the variables kept. The host's extra CAs: the engine's one secret of that
 *   content (`caBundleDigest`; engine/engine-ca-secrets.ts), made once and kept; a session CA's
 *   bundle: a secret of the session's own, created from stdin when it starts, removed with the
 *   env secret.
 * - the session env file (secret values): a podman secret on the engine instead, mounted at the
 *   same path (created from stdin when the session starts, removed when the env file would be:
 *   run/session-credentials.ts); host agent settings and the SSH agent stay here (the prelude
 *   skips what is not mounted).
 * - an egress policy: the proxy runs on the engine, in a container of its own, and the session
 *   is on its own internal network only (network/remote-egress.ts). A session that terminates
 *   TLS hands that proxy its CA key and the credentials kept there (placeholders inside the
 *   session) through `podman exec` on stdin, as the local proxy gets them on its stdin.
 * What cannot be honoured is refused with a clear error, before anything is created: a host
 * path as `--volume`.
 */

/** The podman secret on an engine that holds the session env file of `session` (state `stateKey`). */
export function engineEnvSecretName(stateKey: string, session: string): string {
  return `mino-env-${stateKey}-${session}`;
}

/** The podman secret on an engine that holds the CA bundle of `session` (public: certificates only). */
export function engineCaSecretName(stateKey: string, session: string): string {
  return `mino-ca-${stateKey}-${session}`;
}

/** The container uid the env secret must belong to (the command's user); undefined: root. */
function commandUid(plan: RunPlan, engine: string): number | undefined {
  const keepId = /^keep-id:uid=(\d+)/.exec(plan.spec.userns ?? '');
  if (keepId) return Number(keepId[1]);
  const user = /^(\d+)(:|$)/.exec(plan.spec.user ?? '');
  if (user) return Number(user[1]) === 0 ? undefined : Number(user[1]);
  if (plan.spec.userns === undefined && plan.spec.user === undefined && (plan.spec.uidMap?.length ?? 0) === 0)
    return undefined;
  throw new MinoError(
    `Credentials cannot be passed to this session on engine ${engine}: the image's user is not known`,
    {
      hint: 'Use an image with a numeric USER (mino images have one), or run with --no-passthrough --no-github (and without -e KEY or cloud flags)',
      exitCode: 2,
    },
  );
}

/** The env file as a podman secret on the engine, when the plan has secret values. */
function envSecretOnEngine(
  plan: RunPlan,
  engine: string,
): NonNullable<ContainerSpec['secretFiles']>[number] | undefined {
  if (plan.credentials.secretVariables.length === 0) return undefined;
  if (!plan.mounts.some((m) => m.target === SESSION_ENV_PATH)) return undefined;
  const uid = commandUid(plan, engine);
  return {
    secret: engineEnvSecretName(plan.labels[LABEL_STATE] ?? 'none', plan.sessionName),
    target: basename(SESSION_ENV_PATH),
    ...(uid === undefined ? {} : { uid }),
  };
}

/** The plan for the engine, and the project paths the return trip must never change. */
export interface RemotePlan {
  plan: RunPlan;
  /** Project-relative paths (files or directories) that are protected. */
  protectedPaths: string[];
}

/**
 * Rewrites `plan` for `engine`, the project in `volume`; throws when the plan needs this machine.
 * `caBundleDigest`: the digest of the host's CA bundle the plan mounts (its engine secret's name);
 * without it that bundle too is a secret of the session's own.
 */
export function planOnEngine(
  plan: RunPlan,
  engine: string,
  volume: string,
  options: { caBundleDigest?: string } = {},
): RemotePlan {
  const egress = plan.network.egress;
  const envSecret = envSecretOnEngine(plan, engine);
  const dropped: string[] = [];
  const mounts = [];
  const stateKey = plan.labels[LABEL_STATE] ?? 'none';
  const caSecret =
    options.caBundleDigest !== undefined && !plan.credentials.sessionCa
      ? caBundleSecretName(stateKey, options.caBundleDigest)
      : engineCaSecretName(stateKey, plan.sessionName);
  const caFiles: NonNullable<ContainerSpec['secretFiles']> = [];
  for (const m of plan.mounts) {
    if (m.origin === 'credentials' && (m.target === CA_BUNDLE_TARGET || m.target === SYSTEM_CA_BUNDLE_TARGET)) {
      caFiles.push({ secret: caSecret, target: m.target, public: true });
      continue;
    }
    if (m.origin === 'project') {
      mounts.push({ ...m, source: volume });
      continue;
    }
    if (!m.source.startsWith('/')) {
      mounts.push(m);
      continue;
    }
    if (m.origin === 'cli' || m.origin === 'config') {
      throw new UsageError(
        `${m.origin === 'cli' ? '--volume' : 'container.volumes'} ${m.source}:${m.target}: a path of this machine cannot be mounted on engine ${engine}`,
        'Use a named volume (mino volume create NAME; --volume NAME:/path), or run on this machine (--engine local)',
      );
    }
    dropped.push(m.target);
  }
  const env = { ...(plan.spec.env ?? {}) };
  for (const [key, value] of Object.entries(env)) {
    if (dropped.some((t) => value === t || value.startsWith(`${t}/`))) delete env[key];
  }
  // git's GIT_CONFIG_COUNT/KEY_n/VALUE_n come as a set: without its value, the whole set goes.
  if (env.GIT_CONFIG_COUNT !== undefined && env.GIT_CONFIG_VALUE_0 === undefined) {
    for (const key of Object.keys(env)) if (/^GIT_CONFIG_(COUNT|KEY_\d+|VALUE_\d+)$/.test(key)) delete env[key];
  }
  const root = plan.projectDir.endsWith('/') ? plan.projectDir : `${plan.projectDir}/`;
  const protectedPaths = plan.protection.entries
    .filter((e) => e.hostPath.startsWith(root))
    .map((e) => e.hostPath.slice(root.length));
  const labels = { ...plan.labels, [LABEL_ENGINE]: engine };
  let spec: ContainerSpec = {
    ...plan.spec,
    mounts: toMountSpecs(mounts),
    env,
    labels: { ...plan.spec.labels, ...labels },
  };
  delete spec.devDir;
  if (egress) {
    // The proxy runs on the engine (network/remote-egress.ts): the session's own network only.
    const net = remoteSessionNetwork(egress, remoteEgressNames(plan.labels[LABEL_STATE] ?? 'none', plan.sessionName));
    spec = { ...spec, network: net.network, sysctls: net.sysctls, env: { ...spec.env, ...net.env } };
    delete spec.hooksDirs;
  }
  if (envSecret || caFiles.length > 0)
    spec.secretFiles = [...(plan.spec.secretFiles ?? []), ...(envSecret ? [envSecret] : []), ...caFiles];
  return {
    plan: {
      ...plan,
      mounts,
      spec,
      labels,
      protection: { ...plan.protection, mounts: [], stubs: [], env: {} },
    },
    protectedPaths,
  };
}

/** True when `path` (project-relative) is one of `protectedPaths` or inside one. */
export function isProtectedPath(protectedPaths: readonly string[], path: string): boolean {
  return protectedPaths.some((p) => path === p || path.startsWith(`${p}/`));
}
