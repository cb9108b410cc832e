import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { JsonRecordDir } from '../common/json-record-dir.js';
import { learnedL7Rules } from './l7-learn.js';
import type { DenyReason, EgressMode, PolicyText } from './policy.js';

/**
 * A session's network record: the policy in force and every destination its sandbox asked for,
 * allowed or denied, with counts. The session's proxy writes it (`<state>/network/<session>.json`,
 * 0600) while it runs; `mino run` reads it for the end-of-session summary, `mino network show`
 * and `mino logs --network` for people, and `--network learn --save` for the allowlist it learned.
 */

/** One destination (`host:port`) and what happened to it. */
export interface DestinationEntry {
  destination: string;
  /** Connections and requests let through. */
  allowed: number;
  /** Refused by the policy or the address guard. */
  denied: number;
  /** Allowed, but the destination could not be resolved or reached. */
  failed: number;
  /** The rule that allowed it (`learn` in learn mode), else null. */
  rule: string | null;
  /** Why it was last refused, else null. */
  reason: DenyReason | null;
  /** Why, for people. */
  detail: string | null;
  first_seen: string;
  last_seen: string;
}

/** One request judged by L7 rules or seen in plain HTTP (`GET api.example.com:443/path`). */
export interface RequestEntry {
  destination: string;
  method: string;
  /** The path without its query (at most 200 characters). */
  path: string;
  allowed: number;
  denied: number;
  /** The L7 rule that allowed it last, else null. */
  rule: string | null;
}

/** The record. */
export interface NetworkRecord {
  version: 1;
  session: string;
  mode: EgressMode;
  policy: PolicyText;
  presets: string[];
  started_at: string;
  updated_at: string;
  /** Set once the proxy stopped. */
  ended_at: string | null;
  /** Denials not written to the audit log (beyond its per-session cap). */
  audit_suppressed: number;
  destinations: DestinationEntry[];
  /** Requests seen inside terminated TLS and in plain HTTP (at most 2000 distinct ones). */
  requests?: RequestEntry[];
}

/** The records of a state directory. */
function networkRecords(stateDir: string): JsonRecordDir {
  return new JsonRecordDir(join(stateDir, 'network'), 'network record');
}

/** The proxy's own log (its errors) next to the session's record. */
export function networkLogPath(stateDir: string, session: string): string {
  return join(stateDir, 'network', `${session}.log`);
}

/** Reads a session's record; undefined when there is none or it cannot be parsed. */
export function readNetworkRecord(stateDir: string, session: string): NetworkRecord | undefined {
  let text: string | undefined;
  try {
    text = networkRecords(stateDir).read(session);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as NetworkRecord;
    return r && r.version === 1 && Array.isArray(r.destinations) ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a session's record atomically (a temporary file renamed over it). Not durable: the
 * proxy rewrites it while it serves, and a record is a report, not data worth a disk flush that
 * would stall the proxy on a busy disk.
 */
export function writeNetworkRecord(stateDir: string, record: NetworkRecord): void {
  const path = networkRecords(stateDir).pathOf(record.session);
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600, mkdirMode: 0o700, durable: false });
}

/** A fresh record for a session about to start. */
export function newNetworkRecord(
  session: string,
  mode: EgressMode,
  policy: PolicyText,
  presets: readonly string[],
  now = new Date(),
): NetworkRecord {
  const at = now.toISOString();
  return {
    version: 1,
    session,
    mode,
    policy,
    presets: [...presets],
    started_at: at,
    updated_at: at,
    ended_at: null,
    audit_suppressed: 0,
    destinations: [],
  };
}

/** Denials a rule could allow (not those refused because they reach the host). */
function allowable(e: DestinationEntry): boolean {
  return e.reason === 'no-rule' || e.reason === 'deny-rule' || e.reason === 'host-service';
}

/**
 * The end-of-session line about blocked connections, e.g. `blocked 3 connections:
 * evil.example:443 (2×), 10.0.0.5:22 — allow with --network-allow evil.example:443,10.0.0.5:22`
 * (for a session still running: `mino network allow NAME …`); undefined when nothing was blocked.
 */
export function blockedSummary(
  record: NetworkRecord,
  options: { running?: boolean; max?: number } = {},
): string | undefined {
  const max = options.max ?? 5;
  const denied = record.destinations
    .filter((d) => d.denied > 0)
    .sort((a, b) => b.denied - a.denied || a.destination.localeCompare(b.destination));
  if (denied.length === 0) return undefined;
  const total = denied.reduce((n, d) => n + d.denied, 0);
  const shown = denied.slice(0, max).map((d) => (d.denied > 1 ? `${d.destination} (${d.denied}×)` : d.destination));
  const more = denied.length > max ? `, and ${denied.length - max} more` : '';
  // Those allowed since (mino network allow) need no hint.
  const rules = denied
    .filter(allowable)
    .map((d) => d.destination)
    .filter((d) => !record.policy.allow.includes(d));
  const host = denied.some((d) => d.reason === 'host-address')
    ? '; names that resolve to this host are refused (use host.containers.internal:PORT for host services)'
    : '';
  const fix = options.running
    ? `mino network allow ${record.session} ${rules.slice(0, max).join(' ')}`
    : `--network-allow ${rules.slice(0, max).join(',')}`;
  const hint = rules.length > 0 ? ` — allow with ${fix}` : '';
  const requests = denied.some((d) => d.reason === 'request')
    ? `; requests refused by HTTPS rules on method and path are listed by mino network show ${record.session}`
    : '';
  return `blocked ${total} connection${total === 1 ? '' : 's'}: ${shown.join(', ')}${more}${hint}${host}${requests}`;
}

/**
 * The destinations a learn session used, as rules for `network_allow`: HOST:PORT rules (sorted),
 * then, for destinations whose requests the proxy saw, the narrowest rules on method and path
 * instead (l7-learn.ts).
 */
export function learnedRules(record: NetworkRecord): string[] {
  const used = record.destinations.filter((d) => d.allowed > 0 || d.failed > 0).map((d) => d.destination);
  // A request the rules let through counts only when its destination was used: one the address
  // guard refused afterwards (this host's own address) proposes nothing.
  const reached = new Set(used);
  const requests = (record.requests ?? []).filter((r) => reached.has(r.destination));
  const seen = new Set(requests.filter((r) => r.allowed > 0).map((r) => r.destination));
  return [...used.filter((d) => !seen.has(d)).sort(), ...learnedL7Rules(requests)];
}

/** `network_allow = ["a:443", "b:22"]`, ready for `.mino.toml` (`[container]` table). */
export function learnLine(rules: readonly string[]): string {
  return `network_allow = [${rules.map((r) => JSON.stringify(r)).join(', ')}]`;
}
