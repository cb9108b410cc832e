import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';
import { parseAnyRules, type L7Rule } from './l7-rule.js';
import { DEFAULT_PRESET, parsePresetList, presetL7Rules, type PresetName } from './presets.js';
import type { Rule } from './rule.js';
import { refuseHostAddressRules } from './address-guard.js';

/**
 * Which network a session gets, from flags and configuration, with mino 1.6's precedence (first
 * match wins): CLI allowlist (`--network-allow` and `--network-preset` together), CLI
 * `--network`, config allowlist (`network_allow` and `network_preset` together), config
 * `network`, then the default: contained, an allowlist of the `agent` preset (`contained`; or
 * the request's plain `fallback` mode). An allowlist next to `--network none` or `host` from
 * the same place is a contradiction and exits 2 (on the command line, `--network learn` with an
 * allowlist too); `bridge` with an allowlist means the allowlist, and so does a configured
 * `network = "learn"` next to a configured allowlist (what `--network learn --save` leaves). Pure: the rules are parsed here, the presets expanded later (their registry hosts
 * come from the host's configuration).
 */

/** Plain podman modes. */
type PlainNetworkMode = 'bridge' | 'host' | 'none';

/** Every `--network` value, in the order shown in messages. */
const NETWORK_CHOICES: readonly string[] = ['bridge', 'host', 'none', 'learn'];

/** What the user asked for, CLI and config apart. */
export interface NetworkRequest {
  cli: { network?: string; allow?: readonly string[]; preset?: string };
  config?: { network?: string; allow?: readonly string[]; preset?: string };
  /**
   * What a run gets when neither sets a network: `contained` (the default) is an allowlist of
   * the `agent` preset (presets.ts DEFAULT_PRESET); a plain mode is that mode.
   */
  fallback?: PlainNetworkMode | 'contained';
}

/** Where the choice came from. */
type ChoiceSource = 'cli' | 'config' | 'default';

/** The resolved choice. */
export type NetworkChoice =
  | { mode: PlainNetworkMode; source: ChoiceSource }
  | {
      mode: 'allowlist';
      /** HOST:PORT rules. */
      rules: Rule[];
      /** HTTPS rules on method and path (allow rules). */
      l7: L7Rule[];
      presets: PresetName[];
      source: ChoiceSource;
    }
  | { mode: 'learn'; source: ChoiceSource };

function checkMode(value: string, where: string): PlainNetworkMode | 'learn' {
  if (NETWORK_CHOICES.includes(value)) return value as PlainNetworkMode | 'learn';
  throw new UsageError(
    `Invalid network mode '${printable(value)}'${where}`,
    "Use --network bridge, host, none or learn (bridge: normal outbound access; host: the host's network; none: no network; learn: everything allowed and recorded), or --network-allow HOST:PORT",
  );
}

function allowlist(
  allow: readonly string[] | undefined,
  preset: string | undefined,
  source: ChoiceSource,
): NetworkChoice {
  const { hosts, l7 } = parseAnyRules(allow ?? [], 'allow');
  refuseHostAddressRules([...hosts, ...l7.map((r) => r.host)]);
  return {
    mode: 'allowlist',
    rules: hosts,
    l7,
    presets: preset === undefined ? [] : parsePresetList(preset),
    source,
  };
}

/** True when the choice has L7 rules, whose hosts the proxy terminates (the session needs its CA). */
export function choiceTerminates(choice: NetworkChoice): boolean {
  return (
    choice.mode === 'allowlist' && (choice.l7.length > 0 || choice.presets.some((p) => presetL7Rules(p).length > 0))
  );
}

/** Resolves the network of a run; throws a UsageError (exit 2) on a bad value or a conflict. */
export function resolveNetworkChoice(req: NetworkRequest): NetworkChoice {
  const { cli } = req;
  const config = req.config ?? {};
  const cliMode = cli.network === undefined ? undefined : checkMode(cli.network, '');
  const cliList = (cli.allow?.length ?? 0) > 0 || cli.preset !== undefined;
  if (cliList) {
    if (cliMode !== undefined && cliMode !== 'bridge') {
      const flag = (cli.allow?.length ?? 0) > 0 ? '--network-allow' : '--network-preset';
      throw new UsageError(
        `--network ${cliMode} cannot be combined with ${flag}`,
        cliMode === 'learn'
          ? 'learn allows everything and records it; drop the allowlist, or drop --network learn'
          : `An allowlist already blocks everything else; drop --network ${cliMode}`,
      );
    }
    return allowlist(cli.allow, cli.preset, 'cli');
  }
  if (cliMode !== undefined)
    return cliMode === 'learn' ? { mode: 'learn', source: 'cli' } : { mode: cliMode, source: 'cli' };
  const configMode =
    config.network === undefined ? undefined : checkMode(config.network, ' in the configuration (container.network)');
  if ((config.allow?.length ?? 0) > 0 || config.preset !== undefined) {
    if (configMode === 'none' || configMode === 'host') {
      throw new UsageError(
        `The configuration sets container.network = "${configMode}" together with ${(config.allow?.length ?? 0) > 0 ? 'network_allow' : 'network_preset'}`,
        'Remove one of them (mino config show lists where each value comes from), or override with --network on the command line',
      );
    }
    return allowlist(config.allow, config.preset, 'config');
  }
  if (configMode !== undefined)
    return configMode === 'learn' ? { mode: 'learn', source: 'config' } : { mode: configMode, source: 'config' };
  const fallback = req.fallback ?? 'contained';
  if (fallback === 'contained')
    return { mode: 'allowlist', rules: [], l7: [], presets: [DEFAULT_PRESET], source: 'default' };
  return { mode: fallback, source: 'default' };
}
