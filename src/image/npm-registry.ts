import { localHost, type Host } from '../host/host.js';

/**
 * The npm registry this host is configured with, so image builds install Claude Code from the
 * same place (a corporate mirror, a proxy) as the host's own npm.
 */

/**
 * Cleans `npm config get registry` output: an http(s) URL without credentials (build arguments
 * are recorded in the image history), or undefined when it is not a usable URL.
 */
export function cleanRegistryUrl(text: string): string | undefined {
  const value = text.trim();
  if (value === '' || /\s/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  url.username = '';
  url.password = '';
  return url.toString();
}

/**
 * The npm registry URL of the user's npm on `host` (default: this machine, where mino's user
 * works), or undefined when npm is missing or has none (npm's default then).
 */
export async function hostNpmRegistry(host: Host = localHost): Promise<string | undefined> {
  const result = await host.run(['npm', 'config', 'get', 'registry'], { timeoutMs: 15_000 }).catch(() => undefined);
  return result?.exitCode === 0 ? cleanRegistryUrl(result.stdout) : undefined;
}
