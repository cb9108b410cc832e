import { MinoError } from '../common/errors.js';
import { BUILTIN_LAYER_NAMES } from '../layer/layer-name.js';
import { printable } from '../common/printable.js';
import { readLocalConfigFile, type ConfigFile, type RawTable } from './config-file.js';
import { findLocalConfig } from './discover-config.js';
import { layerNamesOf, readLayerTree, snapshotLayerTree, type LayerTree } from './project-layers.js';
import { renderValue, sensitiveSettings, type SensitiveSetting } from './sensitive-keys.js';
import { isTrusted, pinTrust, readTrustStore, trustStorePath } from './trust-store.js';
import { canonicalPath } from '../common/canonical-path.js';

/**
 * The trust gate: what a repository ships for mino (`.mino.toml` with sensitive keys, and
 * `.mino/layers/**`) takes effect only with the user's trust, pinned to the SHA-256 of the bytes
 * read here, which are the bytes then used (the config is parsed from the same buffer, layers are
 * used from a snapshot). Fixes mino 1.6's gaps: every widening key is gated (general.runtime,
 * audit_log, session.shell, home, cache included), project layers are gated, the file is found
 * from the project directory, and the store is written atomically.
 */

/** What happened to one project item. */
type TrustStatus =
  /** Nothing of this kind in the project. */
  | 'absent'
  /** `--no-local`: not looked at. */
  | 'disabled'
  /** A `.mino.toml` with only harmless keys: applied without asking. */
  | 'harmless'
  /** Trusted earlier with this exact content. */
  | 'trusted'
  /** `--trust-local` / `MINO_TRUST_LOCAL=1`: applied for this invocation only. */
  | 'trusted-once'
  /** The user said yes just now (and the trust was stored). */
  | 'approved'
  /** Not trusted: left out (warning, or the user said no). */
  | 'skipped'
  /** Not trusted; reported only (read-only commands such as `config show`). */
  | 'untrusted';

/** Statuses under which an item takes effect. */
const APPLIED: readonly TrustStatus[] = ['harmless', 'trusted', 'trusted-once', 'approved'];

/** Inputs of {@link runTrustGate}. */
export interface TrustGateInput {
  /** Canonical project directory. */
  projectDir: string;
  /** `--no-local`. */
  noLocal: boolean;
  /** `--trust-local` or `MINO_TRUST_LOCAL=1`. */
  trustLocal: boolean;
  /** `--strict-local`: an untrusted item is an error instead of a warning. */
  strictLocal: boolean;
  /** A person can answer a prompt (stdin and stdout are TTYs, no CI). */
  interactive: boolean;
  /** Asks a yes/no question (default No). */
  confirm?: (question: string) => Promise<boolean>;
  /** Writes a line for the user (stderr). */
  say: (line: string) => void;
  /** The global file's raw table, to show what a project file would change. */
  base: RawTable;
  /** `report`: never prompt, warn or fail; just tell (for `config show`). Default `enforce`. */
  mode?: 'enforce' | 'report';
  env?: NodeJS.ProcessEnv;
}

/** The gate's decision. */
export interface TrustGateResult {
  /** The project's `.mino.toml`, when one was found. */
  localPath?: string;
  /** The project file to apply (only when its status is in {@link APPLIED}). */
  local?: ConfigFile;
  localStatus: TrustStatus;
  /** Sensitive settings of the project file (empty when none or none found). */
  sensitive: SensitiveSetting[];
  /** `<project>/.mino/layers`, when it has files. */
  layersDir?: string;
  layersStatus: TrustStatus;
  /**
   * The directory to give the layer resolver as `projectDir` (`defaultLayerDirs(dir)`): the
   * trusted snapshot of `.mino/layers`, or undefined when the project's layers are not trusted.
   */
  projectLayersDir?: string;
}

function describeLayers(tree: LayerTree): string {
  const names = layerNamesOf(tree).map((n) =>
    BUILTIN_LAYER_NAMES.includes(n) ? `${printable(n)} (replaces the built-in layer)` : printable(n),
  );
  const bytes = tree.files.reduce((n, f) => n + f.bytes.length, 0);
  return `${names.join(', ') || '(no layer directories)'}; ${tree.files.length} file(s), ${(bytes / 1024).toFixed(1)} KiB. Their install scripts run as root while the image builds.`;
}

/** Decides what of the project's mino files takes effect. Throws for `--strict-local` refusals. */
export async function runTrustGate(input: TrustGateInput): Promise<TrustGateResult> {
  if (input.noLocal) return { localStatus: 'disabled', layersStatus: 'disabled', sensitive: [] };
  const mode = input.mode ?? 'enforce';
  const env = input.env ?? process.env;
  const localPath = findLocalConfig(input.projectDir);
  const local = localPath === undefined ? undefined : readLocalConfigFile(localPath);
  const sensitive = local ? sensitiveSettings(local.raw, input.base) : [];
  const tree = readLayerTree(input.projectDir);
  const storePath = trustStorePath(env);
  const store = readTrustStore(storePath);
  const configTarget = local ? canonicalPath(local.path) : undefined;
  const layersTarget = tree ? canonicalPath(tree.dir) : undefined;

  let localStatus: TrustStatus = !local ? 'absent' : sensitive.length === 0 ? 'harmless' : 'untrusted';
  let layersStatus: TrustStatus = tree ? 'untrusted' : 'absent';
  if (localStatus === 'untrusted' && isTrusted(store, configTarget!, local!.sha256)) localStatus = 'trusted';
  if (layersStatus === 'untrusted' && isTrusted(store, layersTarget!, tree!.sha256)) layersStatus = 'trusted';

  const pending: string[] = [];
  if (localStatus === 'untrusted') pending.push(`project config ${local!.path}`);
  if (layersStatus === 'untrusted') pending.push(`project layers ${tree!.dir}`);
  if (pending.length > 0 && input.trustLocal) {
    if (mode === 'enforce') input.say(`Warning: trusting ${pending.join(' and ')} for this run only (--trust-local)`);
    if (localStatus === 'untrusted') localStatus = 'trusted-once';
    if (layersStatus === 'untrusted') layersStatus = 'trusted-once';
  } else if (pending.length > 0 && mode === 'enforce') {
    if (input.interactive && input.confirm) {
      input.say('This project asks mino for more access than your own configuration gives:');
      if (localStatus === 'untrusted') {
        input.say(`  ${local!.path}`);
        for (const s of sensitive) input.say(`    ${s.path}: ${renderValue(s.before)} → ${renderValue(s.value)}`);
      }
      if (layersStatus === 'untrusted') input.say(`  ${tree!.dir}: ${describeLayers(tree!)}`);
      const yes = await input.confirm('Trust this project content and continue?');
      if (yes) {
        pinTrust(storePath, [
          ...(localStatus === 'untrusted'
            ? [{ target: configTarget!, sha256: local!.sha256, kind: 'config' as const }]
            : []),
          ...(layersStatus === 'untrusted'
            ? [{ target: layersTarget!, sha256: tree!.sha256, kind: 'layers' as const }]
            : []),
        ]);
        if (localStatus === 'untrusted') localStatus = 'approved';
        if (layersStatus === 'untrusted') layersStatus = 'approved';
      } else {
        input.say(
          "Project content skipped. Review it, then run 'mino trust' to trust it, or use --no-local to never load it.",
        );
      }
    } else if (input.strictLocal) {
      throw new MinoError(`Untrusted ${pending.join(' and ')} (--strict-local)`, {
        hint: `Review it, then run 'mino trust -p ${input.projectDir}' (or pass --trust-local for one run, --no-local to ignore it)`,
      });
    } else {
      const keys = localStatus === 'untrusted' ? ` (sets ${sensitive.map((s) => s.path).join(', ')})` : '';
      input.say(
        `Warning: skipped untrusted ${pending.join(' and ')}${keys}. Review it, then run 'mino trust -p ${input.projectDir}', or pass --trust-local for one run.`,
      );
    }
    if (localStatus === 'untrusted') localStatus = 'skipped';
    if (layersStatus === 'untrusted') layersStatus = 'skipped';
  }

  const result: TrustGateResult = { localStatus, layersStatus, sensitive };
  if (local) {
    result.localPath = local.path;
    if (APPLIED.includes(localStatus)) result.local = local;
  }
  if (tree) {
    result.layersDir = tree.dir;
    if (APPLIED.includes(layersStatus)) result.projectLayersDir = snapshotLayerTree(tree, env);
  }
  return result;
}
