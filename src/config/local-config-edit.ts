import { join } from 'node:path';
import { configFromBytes, sha256Hex, type RawTable } from './config-file.js';
import { LOCAL_CONFIG_NAME, findLocalConfig } from './discover-config.js';
import { editConfigFile, type EditResult } from './config-edit.js';
import type { KeyTarget } from './config-value.js';
import { sensitiveSettings } from './sensitive-keys.js';
import { isTrusted, pinTrust, readTrustStore, trustStorePath } from './trust-store.js';
import { canonicalPath } from '../common/canonical-path.js';

/**
 * `config set/unset --local`: edits the project's `.mino.toml` (the nearest one from the project
 * directory, or a new one in it) and keeps the trust decision: content that the user trusted (or
 * that needed no trust) is re-pinned to the new bytes, so mino's own edit does not prompt again.
 * Content that was not trusted stays untrusted: an edit is not a review.
 */

/** Result of a local edit. */
export interface LocalEditResult extends EditResult {
  /** Trust was moved to the new content. */
  repinned: boolean;
  /** The file has sensitive keys and is not trusted (the user should review it). */
  untrusted: boolean;
}

/**
 * Sets (value) or unsets (undefined) a key in the project's `.mino.toml`; `check` as in
 * {@link editConfigFile}.
 */
export function editLocalConfig(
  projectDir: string,
  target: KeyTarget,
  value: unknown,
  env: NodeJS.ProcessEnv = process.env,
  check?: (raw: RawTable) => void,
): LocalEditResult {
  const path = findLocalConfig(projectDir) ?? join(projectDir, LOCAL_CONFIG_NAME);
  const result = editConfigFile(path, target, value, { project: true, ...(check ? { check } : {}) });
  const storePath = trustStorePath(env);
  const store = readTrustStore(storePath);
  const target_ = canonicalPath(path);
  const wasOk =
    result.before === undefined ||
    sensitiveSettings(configFromBytes(path, result.before).raw, {}).length === 0 ||
    isTrusted(store, target_, sha256Hex(result.before));
  const needsTrust = sensitiveSettings(configFromBytes(path, result.after).raw, {}).length > 0;
  let repinned = false;
  if (wasOk && needsTrust && result.changed) {
    pinTrust(storePath, [{ target: target_, sha256: result.sha256, kind: 'config' }]);
    repinned = true;
  }
  const untrusted = needsTrust && !repinned && !isTrusted(readTrustStore(storePath), target_, result.sha256);
  return { ...result, repinned, untrusted };
}
