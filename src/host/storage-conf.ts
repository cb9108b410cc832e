import { setKeyInText, tomlValue } from '../common/toml-edit.js';
import { CONF_EDIT } from './containers-conf.js';

/**
 * Where rootless podman keeps its image store and which driver it uses, worked out from the
 * storage.conf files without running podman (the first `podman` call creates the store and
 * records the driver in its database, so a fresh user has to be configured before it).
 */

/** System-wide storage.conf files, first one found wins (containers/storage's order). */
export const SYSTEM_STORAGE_CONFS = ['/etc/containers/storage.conf', '/usr/share/containers/storage.conf'];

/** The host user's environment as far as storage matters. */
export interface StorageEnv {
  uid: number;
  user: string;
  home: string;
  xdgConfigHome?: string;
  xdgDataHome?: string;
  /** `$CONTAINERS_STORAGE_CONF`: podman then reads only this file. */
  forcedConf?: string;
  /** `$STORAGE_DRIVER`: overrides every file. */
  driverEnv?: string;
}

/**
 * The storage.conf mino edits for a rootless user: `$CONTAINERS_STORAGE_CONF` when set, else
 * `$XDG_CONFIG_HOME/containers/storage.conf` (default `~/.config/containers/storage.conf`).
 */
export function userStorageConfPath(env: StorageEnv): string {
  if (env.forcedConf?.startsWith('/')) return env.forcedConf;
  const base = env.xdgConfigHome?.startsWith('/') ? env.xdgConfigHome : `${env.home}/.config`;
  return `${base}/containers/storage.conf`;
}

function storageTable(parsed: Record<string, unknown>): Record<string, unknown> {
  const storage = parsed.storage;
  return storage && typeof storage === 'object' && !Array.isArray(storage) ? (storage as Record<string, unknown>) : {};
}

/** `[storage] driver` of a parsed storage.conf, when set to a non-empty string. */
export function configuredDriver(parsed: Record<string, unknown>): string | undefined {
  const driver = storageTable(parsed).driver;
  return typeof driver === 'string' && driver !== '' ? driver : undefined;
}

/** Expands the variables containers/storage allows in rootless_storage_path ($HOME, $UID, $USER). */
function expandStoragePath(path: string, env: StorageEnv): string {
  return path
    .replace(/\$(HOME|\{HOME\})/g, env.home)
    .replace(/\$(UID|\{UID\})/g, String(env.uid))
    .replace(/\$(USER|\{USER\})/g, env.user);
}

/**
 * The rootless graph root: the user file's `graphroot` (or `rootless_storage_path`), the system
 * file's `rootless_storage_path`, else `$XDG_DATA_HOME/containers/storage` (default
 * `~/.local/share/containers/storage`).
 */
export function rootlessGraphRoot(
  env: StorageEnv,
  userConf: Record<string, unknown> | undefined,
  systemConf: Record<string, unknown> | undefined,
): string {
  const pick = (conf: Record<string, unknown> | undefined, keys: string[]): string | undefined => {
    const table = conf ? storageTable(conf) : {};
    for (const key of keys) {
      const value = table[key];
      if (typeof value === 'string' && /^[/$]/.test(value)) return expandStoragePath(value, env);
    }
    return undefined;
  };
  const fromUser = pick(userConf, ['graphroot', 'rootless_storage_path']);
  if (fromUser) return fromUser;
  const fromSystem = env.forcedConf ? undefined : pick(systemConf, ['rootless_storage_path']);
  if (fromSystem) return fromSystem;
  const data = env.xdgDataHome?.startsWith('/') ? env.xdgDataHome : `${env.home}/.local/share`;
  return `${data}/containers/storage`;
}

/** Where an explicitly chosen driver comes from, or undefined when podman picks one itself. */
export function explicitDriver(
  env: StorageEnv,
  userConf: { path: string; parsed: Record<string, unknown> } | undefined,
  systemConf: { path: string; parsed: Record<string, unknown> } | undefined,
): { driver: string; source: string } | undefined {
  if (env.driverEnv) return { driver: env.driverEnv, source: '$STORAGE_DRIVER' };
  const user = userConf && configuredDriver(userConf.parsed);
  if (user && userConf) return { driver: user, source: userConf.path };
  const system = !env.forcedConf && systemConf ? configuredDriver(systemConf.parsed) : undefined;
  if (system && systemConf) return { driver: system, source: systemConf.path };
  return undefined;
}

/**
 * Returns storage.conf `text` with `[storage] driver = "<driver>"`, every other line (comments,
 * other keys and tables) kept as it was.
 */
export function setStorageDriver(text: string, driver: string): string {
  return setKeyInText(text, 'storage', 'driver', tomlValue(driver), CONF_EDIT);
}
