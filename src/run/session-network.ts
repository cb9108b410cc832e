import { MinoError, UsageError } from '../common/errors.js';
import { resolveKeyTarget } from '../config/config-value.js';
import { editLocalConfig } from '../config/local-config-edit.js';
import { configuredHooksDirs } from '../host/oci-hooks-dirs.js';
import type { RunPlan } from '../launch/run-plan.js';
import { buildEgressPlan, type EgressPlan } from '../network/egress-plan.js';
import { egressBase, egressPaths } from '../network/egress-paths.js';
import { resolveNetworkChoice, type NetworkChoice } from '../network/network-choice.js';
import { blockedSummary, learnedRules, learnLine, type NetworkRecord } from '../network/network-record.js';
import { presetL7Rules, presetNeedsRegistries, presetRules } from '../network/presets.js';
import { isL7RuleText, type L7Rule } from '../network/l7-rule.js';
import { discoverRegistryHosts, hostRegistrySources, type RegistryDiscovery } from '../network/registry-hosts.js';
import type { Rule } from '../network/rule.js';
import { findProgram } from '../common/find-program.js';
import { isMinoImage } from '../image/mino-image.js';
import type { HostFacts, RunIo, RunRequest } from './run-request.js';
import type { SessionContext } from '../context/session-context.js';

/**
 * The network of `mino run`: choosing it (flags over configuration), turning an allowlist or
 * learn mode into the plan's egress part (presets expanded with the registries of the user's own
 * configuration, the host's hook directories kept), and telling the user what the session's
 * proxy saw once it ended.
 */

/**
 * The network of an OrbStack session when nothing chose one: the contained default needs the
 * egress proxy, which does not run there yet, so such a session gets no network (never the whole
 * network silently), with a notice.
 */
export const REMOTE_DEFAULT_NOTICE =
  "Note: no network for this session: the default (contained: the agent allowlist) needs mino's egress proxy, which does not run with OrbStack yet; --network bridge gives the session the whole network";

/**
 * The network choice of a request; throws a UsageError on bad values or conflicts. With OrbStack
 * (`facts.localEngine` false, not a `remote` engine) the contained default becomes `none`, said on
 * `io`; a remote engine keeps it (its proxy runs there: network/remote-egress.ts).
 */
export function chooseNetwork(req: RunRequest, facts?: HostFacts, io?: RunIo, remote = false): NetworkChoice {
  const chosen = chooseRequestedNetwork(req);
  if (remote || facts?.localEngine !== false || chosen.source !== 'default' || chosen.mode !== 'allowlist')
    return chosen;
  io?.say(REMOTE_DEFAULT_NOTICE);
  return { mode: 'none', source: 'default' };
}

function chooseRequestedNetwork(req: RunRequest): NetworkChoice {
  const config = req.config;
  const choice = resolveNetworkChoice({
    cli: { network: req.network, allow: req.networkAllow, preset: req.networkPreset },
    config: { network: config?.network, allow: config?.networkAllow, preset: config?.networkPreset },
  });
  if (req.saveLearned && choice.mode !== 'learn')
    throw new UsageError('--save only applies to --network learn', 'Run mino run --network learn --save -- COMMAND');
  if (req.saveLearned && req.detach) {
    throw new UsageError(
      '--save needs an attached run (the allowlist is written when the command ends)',
      'For a detached session, see its destinations with mino network show NAME',
    );
  }
  return choice;
}

/** The egress inputs that take I/O (registry discovery, hook directories), started early. */
export interface PendingEgress {
  choice: Extract<NetworkChoice, { mode: 'allowlist' | 'learn' }>;
  registries: Promise<RegistryDiscovery | undefined>;
  hooksDirs: Promise<string[]>;
}

/**
 * Starts the I/O an egress plan needs; undefined for plain network modes. The registry programs'
 * answers are kept in `answersFile` when given (network/registry-answers.ts). On a `remote`
 * engine the proxy runs there, in a container (no nsenter, no hook directories here).
 */
export function startEgressInputs(
  choice: NetworkChoice,
  facts: HostFacts,
  answersFile?: string,
  remote = false,
): PendingEgress | undefined {
  if (choice.mode !== 'allowlist' && choice.mode !== 'learn') return undefined;
  if (remote) return egressInputs(choice, facts, answersFile, Promise.resolve([]));
  if (!facts.localEngine) {
    throw new MinoError(
      `--network ${choice.mode === 'learn' ? 'learn' : 'allowlists'} need Podman (on this machine or a remote engine): OrbStack is not supported yet`,
      {
        hint: 'Use --network bridge or none with OrbStack',
      },
    );
  }
  if (!findProgram('nsenter', facts.env.PATH)) {
    throw new MinoError('Network allowlists need nsenter, which is not installed', {
      hint: 'Install util-linux (e.g. apt-get install util-linux), or run with --network bridge or none',
    });
  }
  return egressInputs(choice, facts, answersFile, configuredHooksDirs(facts.env, facts.rootless, facts.homeDir));
}

function egressInputs(
  choice: PendingEgress['choice'],
  facts: HostFacts,
  answersFile: string | undefined,
  hooksDirs: Promise<string[]>,
): PendingEgress {
  const presets = choice.mode === 'allowlist' ? choice.presets : [];
  const registries = presets.some(presetNeedsRegistries)
    ? discoverRegistryHosts(hostRegistrySources(facts.env, facts.homeDir, answersFile))
    : Promise.resolve(undefined);
  registries.catch(() => undefined);
  hooksDirs.catch(() => undefined);
  return { choice, registries, hooksDirs };
}

/** Builds the network part of the plan inputs (the egress plan once its I/O is done). */
export async function networkInputs(
  ctx: SessionContext,
  facts: HostFacts,
  choice: NetworkChoice,
  pending: PendingEgress | undefined,
  sessionName: string,
  image: string,
): Promise<{ network?: string; egress?: EgressPlan }> {
  if (!pending) return { network: choice.mode };
  return {
    egress: egressPlanFor(
      ctx,
      facts,
      pending.choice,
      sessionName,
      await pending.registries,
      await pending.hooksDirs,
      isMinoImage(image),
    ),
  };
}

/** The egress plan (pure, given what the I/O found). */
export function egressPlanFor(
  ctx: SessionContext,
  facts: HostFacts,
  choice: PendingEgress['choice'],
  sessionName: string,
  registries: RegistryDiscovery | undefined,
  systemHooksDirs: readonly string[],
  sshConfig = false,
): EgressPlan {
  const rules: Rule[] = [];
  const l7: L7Rule[] = [];
  const presets = choice.mode === 'allowlist' ? choice.presets : [];
  if (choice.mode === 'allowlist') {
    rules.push(...choice.rules);
    l7.push(...choice.l7);
    for (const p of presets) {
      rules.push(...presetRules(p, registries?.rules ?? []));
      l7.push(...presetL7Rules(p));
    }
  }
  const paths = egressPaths(
    ctx.egressBase ?? egressBase(facts.env, ctx.stateDir, facts.uid),
    ctx.stateKey,
    sessionName,
  );
  // The default (contained) says nothing about registries this host has not configured.
  const notes =
    presets.some(presetNeedsRegistries) && choice.source !== 'default'
      ? (registries?.notes ?? []).map((n) => `network preset ${presets.join(', ')}: ${n}`)
      : [];
  return buildEgressPlan({ mode: choice.mode, rules, l7, presets, paths, systemHooksDirs, notes, sshConfig });
}

/**
 * The lines `--dry-run` prints about an egress policy (shell comments before the podman line);
 * on a remote `engine` the proxy is a container there (network/remote-egress.ts).
 */
export function egressDryRunLines(egress: EgressPlan, engine?: string): string[] {
  const where =
    engine === undefined
      ? `listening on ${egress.listen.host}:${egress.listen.port} inside the container`
      : `a container on engine ${engine}, the session on an internal network with only that proxy (its address set at start)`;
  const lines = [
    `# network: ${egress.mode === 'learn' ? 'learn (everything allowed but the host, and recorded)' : 'allowlist'} through mino's egress proxy, ${where}`,
  ];
  if (egress.mode === 'allowlist') {
    const hosts = egress.policy.allow.filter((r) => !isL7RuleText(r));
    lines.push(`# allow: ${hosts.length > 0 ? hosts.join(' ') : '(nothing)'}`);
  }
  const l7 = egress.policy.allow.filter(isL7RuleText);
  if (l7.length > 0) {
    lines.push('# https rules (TLS terminated by the proxy; first match wins, anything else on these hosts denied):');
    for (const r of l7) lines.push(`#   allow ${r}`);
  }
  if (egress.presets.length > 0) lines.push(`# presets: ${egress.presets.join(', ')}`);
  return lines;
}

/** Tells the user what the session's proxy saw, and saves a learned allowlist when asked. */
export function reportSessionNetwork(
  plan: RunPlan,
  req: RunRequest,
  record: NetworkRecord | undefined,
  io: RunIo,
): void {
  const report = io.report ?? io.say;
  if (!plan.network.egress) return;
  if (!record) {
    io.say(`Warning: the egress proxy of session ${plan.sessionName} left no record of its connections`);
    return;
  }
  const blocked = blockedSummary(record);
  if (blocked) report(`mino: ${blocked}`);
  if (plan.network.mode !== 'learn') return;
  const rules = learnedRules(record);
  report(
    `mino: session ${plan.sessionName} used ${rules.length} destination${rules.length === 1 ? '' : 's'}; for .mino.toml ([container]):`,
  );
  report(learnLine(rules));
  if (!req.saveLearned) return;
  if (rules.length === 0) {
    io.say('Nothing to save: the session used no network destination');
    return;
  }
  let result;
  try {
    result = editLocalConfig(plan.projectDir, resolveKeyTarget('container.network_allow'), rules);
  } catch (err) {
    if (!(err instanceof MinoError)) throw err;
    // The rules are printed above: nothing learned is lost.
    throw new MinoError(`network_allow not saved: ${err.message}`, {
      hint: err.hint ?? 'Add the rules printed above to .mino.toml by hand',
      cause: err,
    });
  }
  io.say(`Saved network_allow (${rules.length} rule${rules.length === 1 ? '' : 's'}) to ${result.path}`);
  if (result.untrusted)
    io.say(`Warning: ${result.path} is not trusted yet; mino asks before using it (or run mino trust)`);
}
