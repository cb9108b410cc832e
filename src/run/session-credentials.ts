import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { MinoError } from '../common/errors.js';
import { log } from '../common/logger.js';
import { loginsVolumeLabels } from '../credentials/agent-logins.js';
import { renderEnvFile, SESSION_ENV_PATH } from '../credentials/session-env-file.js';
import { CA_BUNDLE_TARGET } from '../credentials/host-ca-bundle.js';
import { startAgentRelay, type AgentRelay } from '../credentials/ssh-agent-relay.js';
import type { PlanCredentialInput } from '../launch/plan-credentials.js';
import type { RunPlan } from '../launch/run-plan.js';
import type { GatheredCredentials } from './gather-credentials.js';
import type { EgressSecrets } from '../network/egress-secrets.js';
import { sessionTls } from './session-tls.js';
import { sessionEnvOf, type SessionContext } from '../context/session-context.js';
import { bundleSecretOf, ensurePlanCaBundle } from './remote-ca-bundle.js';

/**
 * The host side of a session's credentials, around the container's life: the plan's credential
 * input, the logins volume, the session env file and the SSH agent relay, and their removal.
 */

/** How the session's user relates to the host, for the SSH agent decision. */
export interface CredentialIdentity {
  rootless: boolean;
  /** uid the image runs as, when known (0 = root). */
  imageUser: number | undefined;
  detach: boolean;
}

/**
 * The plan's credential input. The session gets a CA of its own when a credential stays at the
 * proxy, or when `options.sessionCa` asks for one (L7 rules on a terminated host). Rootful sessions (container root is an unprivileged host uid) reach the SSH agent through
 * mino's relay (the agent's socket is its owner's only); a detached rootful session cannot, since
 * no mino process stays to relay: that is an error before anything starts.
 */
export function planCredentialInput(
  ctx: SessionContext,
  sessionName: string,
  gathered: GatheredCredentials,
  who: CredentialIdentity,
  options: { sessionCa?: boolean } = {},
): PlanCredentialInput {
  const store = sessionEnvOf(ctx);
  let sshAgentSocket = gathered.sshAgentSocket;
  if (sshAgentSocket !== undefined && needsRelay(who)) {
    if (who.detach) {
      throw new MinoError('--ssh-agent does not work with a detached session of rootful podman', {
        hint: 'Run the session attached, or as a non-root user (rootless podman forwards the agent directly)',
      });
    }
    sshAgentSocket = store.relayPathOf(sessionName);
  }
  return {
    ...(gathered.secretValues.size > 0
      ? { envFile: { hostPath: store.pathOf(sessionName), variables: [...gathered.secretValues.keys()] } }
      : {}),
    hostEnv: gathered.hostEnv,
    providerEnv: gathered.providerEnv,
    ...(gathered.loginsVolume !== undefined ? { loginsVolume: gathered.loginsVolume } : {}),
    hostSettings: gathered.hostSettings,
    ...(sshAgentSocket !== undefined ? { sshAgentSocket } : {}),
    // Credentials kept at the proxy: the session trusts its own CA, through a bundle of its own.
    ...(gathered.proxyRules.length > 0 || options.sessionCa
      ? { caBundle: store.caPathOf(sessionName), sessionCa: true }
      : gathered.caBundle !== undefined
        ? { caBundle: gathered.caBundle }
        : {}),
    proxy: gathered.proxyRules,
    ...(gathered.upstreamCa.length > 0 ? { upstreamCa: gathered.upstreamCa } : {}),
  };
}

/** Rootful sessions run in a user namespace where no container user, root included, is the socket's owner. */
function needsRelay(who: CredentialIdentity): boolean {
  return !who.rootless;
}

/**
 * Creates the logins volume with its labels the first time (a marker in the state directory
 * spares later runs the `volume create`, as for home volumes). Should it vanish, podman makes it
 * again, empty, on the next run.
 */
export async function prepareLoginsVolume(ctx: SessionContext, plan: RunPlan, now = new Date()): Promise<void> {
  if (plan.loginsVolume === undefined || !loginsVolumeToCreate(ctx, plan)) return;
  const marker = join(ctx.stateDir, 'logins-volume');
  await ctx.runtime.volumeCreate(plan.loginsVolume, loginsVolumeLabels(ctx.stateKey, ctx.stateDir, now));
  try {
    writeFileAtomic(marker, `${plan.loginsVolume}\n`, { mode: 0o600, mkdirMode: 0o700, durable: false });
  } catch {
    // only an optimisation
  }
}

/** True when the run's logins volume is not known to exist yet ({@link prepareLoginsVolume} creates it). */
export function loginsVolumeToCreate(ctx: SessionContext, plan: RunPlan): boolean {
  return plan.loginsVolume !== undefined && !existsSync(join(ctx.stateDir, 'logins-volume'));
}

/** What {@link openSessionCredentials} set up; `close` undoes it. */
export interface OpenCredentials {
  /** Removes the env file (and CA bundle) and stops the relay. Safe to call twice. */
  close(): Promise<void>;
  /** For the session's proxy (session CA, credentials), when credentials stay outside. */
  egressSecrets?: EgressSecrets;
  /**
   * With `deferCa` (a warm container, which trusts a CA of its own, is likely to serve the run):
   * makes the session CA and its bundle when the run starts cold after all, and returns the
   * proxy's secrets.
   */
  makeCa?: () => Promise<EgressSecrets>;
}

/**
 * Writes the session env file (when the plan mounts one) and starts the SSH agent relay (when the
 * plan uses one). Call after the session record exists, so reconciliation never mistakes the file
 * for a dead session's.
 */
export async function openSessionCredentials(
  ctx: SessionContext,
  plan: RunPlan,
  gathered: GatheredCredentials,
  env: NodeJS.ProcessEnv = process.env,
  options: { deferCa?: boolean } = {},
): Promise<OpenCredentials> {
  const store = sessionEnvOf(ctx);
  let relay: AgentRelay | undefined;
  let closed = false;
  // On a remote engine the env file is a podman secret there (launch/remote-plan.ts).
  const engineSecret = plan.spec.secretFiles?.find((s) => `/run/secrets/${s.target}` === SESSION_ENV_PATH)?.secret;
  // And its CA bundle (public) too: the session's own (a session CA's), else the engine's one
  // secret of the host's bundle, made once and kept (remote-ca-bundle.ts).
  const sharedCa = bundleSecretOf(ctx, plan.spec);
  const engineCa = sharedCa ?? plan.spec.secretFiles?.find((s) => s.target === CA_BUNDLE_TARGET)?.secret;
  const ownCa = sharedCa === undefined ? engineCa : undefined;
  const labels = { 'io.mino.state': ctx.stateKey, 'io.mino.session': plan.sessionName };
  // A deferred session CA (a warm container served the run) leaves no secret of its own to remove.
  let ownCaMade = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await relay?.close().catch(() => undefined);
    await Promise.all(
      [engineSecret, ownCaMade ? ownCa : undefined].map((secret) =>
        secret === undefined
          ? undefined
          : ctx.runtime.secretRemove(secret).catch((err: unknown) => {
              log.warn('could not remove a session secret on the engine', { error: (err as Error).message });
            }),
      ),
    );
    try {
      store.remove(plan.sessionName);
    } catch (err) {
      log.warn('could not remove the session env file', { error: (err as Error).message });
    }
  };
  try {
    if (plan.credentials.secretVariables.length > 0) {
      const values = new Map(plan.credentials.secretVariables.map((k) => [k, gathered.secretValues.get(k) ?? '']));
      if (engineSecret === undefined) store.write(plan.sessionName, renderEnvFile(values));
      else await ctx.runtime.secretCreate(engineSecret, renderEnvFile(values), labels);
    }
    const makeCa = async (): Promise<EgressSecrets> => {
      const tls = await sessionTls(
        plan.sessionName,
        plan.credentials.proxy,
        gathered.proxyValues,
        gathered.upstreamCa,
        env,
      );
      if (closed) throw new Error('the session ended before its CA was made');
      store.writeCaBundle(plan.sessionName, tls.bundleText);
      // On a remote engine the session CA's bundle (public) is a secret of its own there.
      if (ownCa !== undefined) {
        ownCaMade = true;
        await ctx.runtime.secretCreate(ownCa, tls.bundleText, labels);
      }
      return tls.secrets;
    };
    const deferred = plan.credentials.sessionCa && options.deferCa === true;
    const egressSecrets = plan.credentials.sessionCa && !deferred ? await makeCa() : undefined;
    if (sharedCa !== undefined) await ensurePlanCaBundle(ctx, plan.spec);
    else if (ownCa !== undefined && !plan.credentials.sessionCa && gathered.caBundle !== undefined) {
      // The host's bundle as a secret of the session's own (a plan made without its digest).
      ownCaMade = true;
      await ctx.runtime.secretCreate(ownCa, readFileSync(gathered.caBundle, 'utf8'), labels);
    }
    const relayPath = store.relayPathOf(plan.sessionName);
    if (gathered.sshAgentSocket !== undefined && plan.mounts.some((m) => m.source === relayPath)) {
      store.ensureDir();
      relay = await startAgentRelay(relayPath, gathered.sshAgentSocket);
    }
    return { close, ...(egressSecrets ? { egressSecrets } : {}), ...(deferred ? { makeCa } : {}) };
  } catch (err) {
    await close();
    throw err;
  }
}
