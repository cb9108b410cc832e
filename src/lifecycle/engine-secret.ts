import { errorMessage } from '../common/errors.js';
import { engineCaSecretName, engineEnvSecretName } from '../launch/remote-plan.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';
import type { AuditLog } from '../audit/audit-log.js';
import { endRemoteEgress } from '../network/remote-egress.js';

/**
 * Removes the podman secrets that held the env file and the CA bundle of `session` on another
 * engine (launch/remote-plan.ts) once the session is over, when its `mino run` was killed before it
 * could do so. A missing secret is fine. Returns a warning that names the secret (never its
 * value) when the engine refuses, else undefined.
 */
async function removeEngineSecret(
  runtime: ContainerRuntime,
  stateKey: string,
  engine: string,
  session: string,
): Promise<string | undefined> {
  const secret = engineEnvSecretName(stateKey, session);
  try {
    // Its CA bundle's too (public; best effort).
    await Promise.all([
      runtime.secretRemove(secret),
      runtime.secretRemove(engineCaSecretName(stateKey, session)).catch(() => undefined),
    ]);
    return undefined;
  } catch (err) {
    const reason = errorMessage(err).split('\n')[0];
    return `Could not remove the credentials of session '${session}' on engine ${engine} (podman secret ${secret}): ${reason}`;
  }
}

/**
 * Everything an ended session left on another engine: its egress proxy when it had one
 * (`egress`: its last record kept here, its denials audited; network/remote-egress.ts) and its
 * network, and its credentials secret.
 * Returns warnings (never a secret's value).
 */
export async function removeEngineLeftovers(
  runtime: ContainerRuntime,
  ctx: { stateDir: string; stateKey: string; audit?: AuditLog },
  engine: string,
  session: string,
  egress: boolean,
): Promise<string | undefined> {
  let warning: string | undefined;
  try {
    if (egress) await endRemoteEgress(runtime, ctx.stateDir, ctx.stateKey, session, ctx.audit);
  } catch (err) {
    warning = `Could not remove the egress proxy of session '${session}' on engine ${engine}: ${errorMessage(err).split('\n')[0]}`;
  }
  return (await removeEngineSecret(runtime, ctx.stateKey, engine, session)) ?? warning;
}
