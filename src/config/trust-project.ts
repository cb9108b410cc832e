import { readLocalConfigFile } from './config-file.js';
import { findLocalConfig } from './discover-config.js';
import { layerNamesOf, readLayerTree } from './project-layers.js';
import { renderValue, sensitiveSettings } from './sensitive-keys.js';
import { pinTrust, revokeTrust, trustStorePath } from './trust-store.js';
import { canonicalPath } from '../common/canonical-path.js';
import { basename, dirname, join } from 'node:path';

/**
 * `mino trust [-p DIR] [--revoke]`: trusting a project's current `.mino.toml` and `.mino/layers`
 * (after the user has reviewed them) or forgetting that trust.
 */

/** One project item `mino trust` acted on. */
export interface TrustedItem {
  kind: 'config' | 'layers';
  path: string;
  /** What it sets (config: `key = value` lines; layers: layer names). */
  details: string[];
}

/** Pins trust to the project's current files; returns what was trusted (empty: nothing to trust). */
export function trustProject(projectDir: string, env: NodeJS.ProcessEnv = process.env): TrustedItem[] {
  const items: TrustedItem[] = [];
  const pins: Array<{ target: string; sha256: string; kind: 'config' | 'layers' }> = [];
  const localPath = findLocalConfig(projectDir);
  const local = localPath ? readLocalConfigFile(localPath) : undefined;
  if (local) {
    const sensitive = sensitiveSettings(local.raw, {});
    items.push({
      kind: 'config',
      path: local.path,
      details: sensitive.map((s) => `${s.path} = ${renderValue(s.value)}`),
    });
    pins.push({ target: canonicalPath(local.path), sha256: local.sha256, kind: 'config' });
  }
  const tree = readLayerTree(projectDir);
  if (tree) {
    items.push({ kind: 'layers', path: tree.dir, details: layerNamesOf(tree) });
    pins.push({ target: canonicalPath(tree.dir), sha256: tree.sha256, kind: 'layers' });
  }
  if (pins.length > 0) pinTrust(trustStorePath(env), pins);
  return items;
}

/**
 * Forgets trust for the project's `.mino.toml` and `.mino/layers`; returns how many entries went.
 * The project's own paths are meant, never a link's target: revoking in a project whose
 * `.mino.toml` is a link must not revoke the trust of the file it points to.
 */
export function revokeProject(projectDir: string, env: NodeJS.ProcessEnv = process.env): number {
  const base = canonicalPath(projectDir);
  const local = findLocalConfig(projectDir);
  const targets = [
    ...(local === undefined ? [] : [join(canonicalPath(dirname(local)), basename(local))]),
    join(base, '.mino', 'layers'),
  ];
  return revokeTrust(trustStorePath(env), targets);
}
