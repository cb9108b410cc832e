import { readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * The OCI hook directories podman uses on this host. `podman --hooks-dir` replaces them, so a run
 * that adds a hook directory of its own must pass these too, or it would silently switch off the
 * host's hooks (a GPU toolkit's, say). Read from containers.conf (`[engine] hooks_dir`, the last
 * file that sets it wins), else podman's defaults.
 */

/** podman's hook directories when no containers.conf sets `hooks_dir`. */
const DEFAULT_HOOKS_DIRS: readonly string[] = ['/usr/share/containers/oci/hooks.d', '/etc/containers/oci/hooks.d'];

function confFiles(env: NodeJS.ProcessEnv, rootless: boolean, home: string): string[] {
  if (env.CONTAINERS_CONF && isAbsolute(env.CONTAINERS_CONF)) return [env.CONTAINERS_CONF];
  const dropIns = (dir: string): string[] => {
    try {
      return readdirSync(dir)
        .filter((f) => f.endsWith('.conf'))
        .sort()
        .map((f) => join(dir, f));
    } catch {
      return [];
    }
  };
  const files = [
    '/usr/share/containers/containers.conf',
    '/etc/containers/containers.conf',
    ...dropIns('/etc/containers/containers.conf.d'),
  ];
  if (rootless) {
    const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
    files.push(
      join(config, 'containers', 'containers.conf'),
      ...dropIns(join(config, 'containers', 'containers.conf.d')),
    );
  }
  return files;
}

/** The hook directories of this host's podman configuration. */
export async function configuredHooksDirs(env: NodeJS.ProcessEnv, rootless: boolean, home: string): Promise<string[]> {
  let dirs: string[] | undefined;
  for (const file of confFiles(env, rootless, home)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    if (!/^\s*hooks_dir\s*=/m.test(text)) continue;
    try {
      const { parse } = await import('smol-toml');
      const engine = (parse(text) as { engine?: { hooks_dir?: unknown } }).engine;
      const value = engine?.hooks_dir;
      if (Array.isArray(value) && value.every((v) => typeof v === 'string' && isAbsolute(v))) dirs = value as string[];
    } catch {
      // podman itself refuses a broken containers.conf; nothing to add here
    }
  }
  return [...(dirs ?? DEFAULT_HOOKS_DIRS)];
}
