import { readFileSync } from 'node:fs';
import { log } from '../common/logger.js';
import type { SessionContext } from '../context/session-context.js';
import { CA_BUNDLE_TARGET, sessionCaBundlePath } from '../credentials/host-ca-bundle.js';
import {
  caBundleDigest,
  caBundleDigestOf,
  ensureCaBundleSecret,
  repairCaBundleSecret,
  type CaBundleTarget,
} from '../engine/engine-ca-secrets.js';
import type { Execution } from '../launch/execute-plan.js';
import type { RunPlan } from '../launch/run-plan.js';

/**
 * The host's CA bundle of a run on another engine (engine/engine-ca-secrets.ts): its digest for
 * the plan, the engine's secret of it made once, and one retry of a start that failed because
 * that secret was removed behind mino's back.
 */

/** The digest of the host's CA bundle `plan` (a local plan) mounts; undefined: none, or a session CA's. */
export function hostCaBundleDigest(plan: RunPlan): string | undefined {
  if (plan.credentials.sessionCa) return undefined;
  const mount = plan.mounts.find((m) => m.origin === 'credentials' && m.target === CA_BUNDLE_TARGET);
  if (mount === undefined) return undefined;
  try {
    return caBundleDigest(readFileSync(mount.source, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The engine's bundle secret a remote plan mounts (its content-addressed one), if any. */
export function bundleSecretOf(ctx: Pick<SessionContext, 'stateKey'>, spec: RunPlan['spec']): string | undefined {
  return spec.secretFiles?.find((f) => f.public === true && caBundleDigestOf(ctx.stateKey, f.secret) !== undefined)
    ?.secret;
}

/** The bundle functions' target for `ctx` on `engine`. */
function targetOf(ctx: SessionContext, engine: string): CaBundleTarget {
  return { runtime: ctx.runtime, engine, stateDir: ctx.stateDir, stateKey: ctx.stateKey };
}

/** The host bundle's text (the file the run's planning wrote). */
function bundleText(ctx: SessionContext): () => string {
  return () => readFileSync(sessionCaBundlePath(ctx.stateDir), 'utf8');
}

/** Makes sure the bundle secret `spec` mounts exists on `ctx.engine` (no podman call when known). */
export async function ensurePlanCaBundle(ctx: SessionContext, spec: RunPlan['spec']): Promise<void> {
  const name = bundleSecretOf(ctx, spec);
  if (name === undefined || ctx.engine === undefined) return;
  await ensureCaBundleSecret(targetOf(ctx, ctx.engine), name, bundleText(ctx));
}

/**
 * Runs `start` (a start of `plan` on `ctx.engine`); when it failed as podman does for a missing
 * secret (exit 125, or an error) and the plan's bundle secret is indeed missing, makes it again
 * and runs `start` once more. Podman checks secrets before it creates anything, so nothing ran.
 */
export async function withCaBundleRepair(
  ctx: SessionContext,
  plan: RunPlan,
  start: () => Promise<Execution>,
): Promise<Execution> {
  const name = bundleSecretOf(ctx, plan.spec);
  if (name === undefined || ctx.engine === undefined) return start();
  const target = targetOf(ctx, ctx.engine);
  const repaired = async (): Promise<boolean> => {
    const made = await repairCaBundleSecret(target, name, bundleText(ctx)).catch(() => false);
    if (made) log.info('the CA bundle secret was missing on the engine; made it again', { secret: name });
    return made;
  };
  let outcome: Execution;
  try {
    outcome = await start();
  } catch (err) {
    if (await repaired()) return start();
    throw err;
  }
  if (outcome.kind === 'exited' && outcome.exitCode === 125 && (await repaired())) return start();
  return outcome;
}
