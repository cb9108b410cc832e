import { errorMessage } from '../common/errors.js';
import { engineEnvSecretName } from '../launch/remote-plan.js';
import type { ContainerRuntime } from '../runtime/container-runtime.js';

/**
 * Removes the podman secret that held the env file of `session` on another engine
 * (launch/remote-plan.ts) once the session is over, when its `mino run` was killed before it
 * could do so. A missing secret is fine. Returns a warning that names the secret (never its
 * value) when the engine refuses, else undefined.
 */
export async function removeEngineSecret(
  runtime: ContainerRuntime,
  stateKey: string,
  engine: string,
  session: string,
): Promise<string | undefined> {
  const secret = engineEnvSecretName(stateKey, session);
  try {
    await runtime.secretRemove(secret);
    return undefined;
  } catch (err) {
    const reason = errorMessage(err).split('\n')[0];
    return `Could not remove the credentials of session '${session}' on engine ${engine} (podman secret ${secret}): ${reason}`;
  }
}
