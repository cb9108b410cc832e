/** Environment variable names whose values are always masked in logs and dry-run output. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL|AUTH)/i;

/** True when an environment variable name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Masks secret values in an argument list: `KEY=value` pairs whose key looks secret become
 * `KEY=***`, so podman command lines can be logged safely.
 */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg) => {
    const eq = arg.indexOf('=');
    if (eq <= 0) return arg;
    const key = arg.slice(0, eq);
    return isSecretName(key) ? `${key}=***` : arg;
  });
}
