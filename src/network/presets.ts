import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { parseL7Rule, type L7Rule } from './l7-rule.js';
import { parseRule, type Rule } from './rule.js';

/**
 * The allowlist presets:
 * - `registries`: the package registries the user's own tools are configured with (npm, pip,
 *   cargo), read from the host's configuration when the session starts (registry-hosts.ts), so a
 *   mirror configured on the host just works. No registry host is written into mino.
 * - `agent` (the default of a session that chooses no network): the registries plus what Claude
 *   Code needs to log in and work (the Anthropic API, its login and console pages, its feature
 *   flags and its own downloads). Nothing else: no GitHub (a gist is enough to leak a secret).
 * - `dev`: the registries plus GitHub (HTTPS and SSH) and the Anthropic and OpenAI APIs (mino 1.6).
 * - `github-readonly`: HTTPS rules on method and path (l7-rule.ts): read the GitHub API
 *   (`GET`/`HEAD` only, so no gist, issue or push), clone and fetch over HTTPS, download
 *   archives and raw files. Everything else on those hosts is denied.
 * Several presets can be given at once (`--network-preset agent,github-readonly`).
 */

/** Preset names. */
export type PresetName = 'agent' | 'dev' | 'registries' | 'github-readonly';

/** The preset of a session whose flags and configuration choose no network (contained by default). */
export const DEFAULT_PRESET: PresetName = 'agent';

/** Every preset, in the order shown in messages. */
const PRESET_NAMES: readonly PresetName[] = ['agent', 'dev', 'registries', 'github-readonly'];

/** Presets that include the registries of the user's configuration. */
const WITH_REGISTRIES: readonly PresetName[] = ['agent', 'dev', 'registries'];

/** Claude Code: API, login (claude.ai, console, platform), feature flags, native installer downloads. */
const AGENT_HOSTS: readonly string[] = [
  'api.anthropic.com:443',
  'claude.ai:443',
  'claude.com:443',
  'platform.claude.com:443',
  'console.anthropic.com:443',
  'statsig.anthropic.com:443',
  'downloads.claude.ai:443',
];

/** What `dev` adds to the registries (mino 1.6's list). */
const DEV_HOSTS: readonly string[] = [
  'github.com:443',
  'github.com:22',
  'api.github.com:443',
  'api.anthropic.com:443',
  'api.openai.com:443',
];

/** The HTTPS rules of `github-readonly`. */
const GITHUB_READONLY: readonly string[] = [
  'GET,HEAD api.github.com/*',
  'GIT-FETCH github.com/*',
  'GET,HEAD github.com/*',
  'GET,HEAD codeload.github.com/*',
  'GET,HEAD raw.githubusercontent.com/*',
  'GET,HEAD objects.githubusercontent.com/*',
];

/** Validates one preset name (exit 2 otherwise). */
function parsePresetName(value: string): PresetName {
  if ((PRESET_NAMES as readonly string[]).includes(value)) return value as PresetName;
  throw new UsageError(
    `Unknown network preset '${printable(value)}'`,
    `Use --network-preset ${PRESET_NAMES.join(', ')} (several: comma-separated)`,
  );
}

/** Validates a comma-separated preset list (duplicates dropped; exit 2 on an unknown name). */
export function parsePresetList(value: string): PresetName[] {
  const out: PresetName[] = [];
  for (const part of value.split(',')) {
    const name = parsePresetName(part.trim());
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** True when a config value is a valid preset list (for the schema). */
export function isValidPresetList(value: string): boolean {
  try {
    parsePresetList(value);
    return true;
  } catch {
    return false;
  }
}

/** True when a preset includes the registries of the user's configuration (they are looked up). */
export function presetNeedsRegistries(name: PresetName): boolean {
  return WITH_REGISTRIES.includes(name);
}

/** The HOST:PORT rules of a preset, given the registry rules discovered on this host. */
export function presetRules(name: PresetName, registries: readonly Rule[]): Rule[] {
  const fixed = name === 'dev' ? DEV_HOSTS : name === 'agent' ? AGENT_HOSTS : [];
  return [...fixed.map(parseRule), ...(presetNeedsRegistries(name) ? registries : [])];
}

/** The HTTPS rules on method and path of a preset (allow rules). */
export function presetL7Rules(name: PresetName): L7Rule[] {
  return name === 'github-readonly' ? GITHUB_READONLY.map((r) => parseL7Rule(r, 'allow')) : [];
}
