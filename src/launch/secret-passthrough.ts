import { MinoError } from '../common/errors.js';
import type { SecretEnvSpec, SecretFileSpec } from '../runtime/container-runtime.js';
import { printable } from '../runtime/validate.js';

/**
 * Extension point for credentials. The plan builder never reads credential values: a later
 * credentials step creates podman secrets (`ContainerRuntime.secretCreate`, value on stdin) and
 * passes their names here. They become `--secret name,type=env|mount,…` arguments, so values never
 * appear in `spec.env`, argv, `--dry-run` output or the plan hash (only the secret names do).
 */

/** Podman secrets to expose to the container. */
export interface SecretPassthrough {
  /** Secrets exposed as environment variables (`type=env`; see the podman < 5.3 inspect caveat). */
  env?: readonly SecretEnvSpec[];
  /** Secrets mounted as files under /run/secrets (preferred where env secrets leak in inspect). */
  files?: readonly SecretFileSpec[];
}

/** Result of {@link applySecrets}. */
export interface AppliedSecrets {
  /** Plain env with every key that a secret provides removed. */
  env: Record<string, string>;
  secretEnv: SecretEnvSpec[];
  secretFiles: SecretFileSpec[];
  /** One line per plain variable a secret replaced. */
  warnings: string[];
}

/**
 * Combines the plain env with the secrets. A secret wins over a plain variable of the same name
 * (the plain entry is dropped with a warning): the credentials step decided to provide it, and
 * dropping keeps two conflicting values out of the container. Two secrets for one variable or
 * one file name are an error.
 */
export function applySecrets(env: Readonly<Record<string, string>>, secrets: SecretPassthrough | undefined): AppliedSecrets {
  const secretEnv = [...(secrets?.env ?? [])];
  const secretFiles = [...(secrets?.files ?? [])];
  const plain: Record<string, string> = { ...env };
  const warnings: string[] = [];
  const targets = new Set<string>();
  for (const s of secretEnv) {
    if (targets.has(s.target)) throw new MinoError(`Two secrets provide the environment variable ${printable(s.target)}`);
    targets.add(s.target);
    if (Object.hasOwn(plain, s.target)) {
      delete plain[s.target];
      warnings.push(`${s.target} is provided by a credential secret; the plain value from -e/config is ignored`);
    }
  }
  const files = new Set<string>();
  for (const s of secretFiles) {
    if (files.has(s.target)) throw new MinoError(`Two secrets use the file /run/secrets/${printable(s.target)}`);
    files.add(s.target);
  }
  return { env: plain, secretEnv, secretFiles, warnings };
}
