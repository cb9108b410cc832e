import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { parseRule, type Rule } from './rule.js';

/**
 * The allowlist presets of mino 1.6:
 * - `registries`: the package registries the user's own tools are configured with (npm, pip,
 *   cargo), read from the host's configuration when the session starts (registry-hosts.ts), so a
 *   mirror configured on the host just works. No registry host is written into mino.
 * - `dev`: the registries plus GitHub (HTTPS and SSH) and the Anthropic and OpenAI APIs.
 */

/** Preset names. */
export type PresetName = 'dev' | 'registries';

/** Every preset, in the order shown in messages. */
const PRESET_NAMES: readonly PresetName[] = ['dev', 'registries'];

/** What `dev` adds to the registries (mino 1.6's list). */
const DEV_HOSTS: readonly string[] = [
  'github.com:443',
  'github.com:22',
  'api.github.com:443',
  'api.anthropic.com:443',
  'api.openai.com:443',
];

/** Validates a preset name (exit 2 otherwise). */
export function parsePresetName(value: string): PresetName {
  if ((PRESET_NAMES as readonly string[]).includes(value)) return value as PresetName;
  throw new UsageError(
    `Unknown network preset '${printable(value)}'`,
    `Use --network-preset ${PRESET_NAMES.join(' or ')}`,
  );
}

/** The rules of a preset, given the registry rules discovered on this host. */
export function presetRules(name: PresetName, registries: readonly Rule[]): Rule[] {
  const fixed = name === 'dev' ? DEV_HOSTS.map(parseRule) : [];
  return [...fixed, ...registries];
}
