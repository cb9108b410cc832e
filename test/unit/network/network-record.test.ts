import { describe, expect, it } from 'vitest';
import {
  blockedSummary,
  learnedRules,
  learnLine,
  newNetworkRecord,
  type DestinationEntry,
  type NetworkRecord,
} from '../../../src/network/network-record.js';

const entry = (destination: string, e: Partial<DestinationEntry>): DestinationEntry => ({
  destination,
  allowed: 0,
  denied: 0,
  failed: 0,
  rule: null,
  reason: null,
  detail: null,
  first_seen: 't',
  last_seen: 't',
  ...e,
});
const record = (destinations: DestinationEntry[], allow: string[] = []): NetworkRecord => ({
  ...newNetworkRecord('s1', 'allowlist', { mode: 'allowlist', allow, deny: [] }, []),
  destinations,
});

describe('network record summaries', () => {
  it('says nothing when nothing was blocked', () => {
    expect(blockedSummary(record([entry('a.test:443', { allowed: 3, rule: 'a.test:443' })]))).toBeUndefined();
  });

  it('lists blocked destinations by count, with the flag that allows them', () => {
    const r = record([
      entry('10.0.0.5:22', { denied: 1, reason: 'no-rule' }),
      entry('evil.example:443', { denied: 2, reason: 'no-rule' }),
      entry('ok.test:443', { allowed: 9 }),
    ]);
    expect(blockedSummary(r)).toBe(
      'blocked 3 connections: evil.example:443 (2×), 10.0.0.5:22 — allow with --network-allow evil.example:443,10.0.0.5:22',
    );
    expect(blockedSummary(r, { running: true })).toBe(
      'blocked 3 connections: evil.example:443 (2×), 10.0.0.5:22 — allow with mino network allow s1 evil.example:443 10.0.0.5:22',
    );
  });

  it('never suggests allowing what reaches the host, nor what was allowed since', () => {
    const r = record(
      [
        entry('rebind.test:443', { denied: 1, reason: 'host-address' }),
        entry('later.test:443', { denied: 1, reason: 'no-rule' }),
      ],
      ['later.test:443'],
    );
    expect(blockedSummary(r)).toBe(
      'blocked 2 connections: later.test:443, rebind.test:443; names that resolve to this host are refused (use host.containers.internal:PORT for host services)',
    );
  });

  it('points at mino network show for requests refused by HTTPS rules', () => {
    const r = record([entry('api.test:443', { allowed: 1, denied: 2, reason: 'request' })]);
    expect(blockedSummary(r)).toBe(
      'blocked 2 connections: api.test:443 (2×); requests refused by HTTPS rules on method and path are listed by mino network show s1',
    );
  });

  it('shortens long lists', () => {
    const many = Array.from({ length: 8 }, (_, i) => entry(`h${i}.test:443`, { denied: 1, reason: 'no-rule' }));
    expect(blockedSummary(record(many))).toMatch(
      /^blocked 8 connections: h0\.test:443, h1\.test:443, h2\.test:443, h3\.test:443, h4\.test:443, and 3 more — /,
    );
  });

  it('turns what a learn session used into a network_allow line', () => {
    const r = record([
      entry('b.test:443', { allowed: 2, rule: 'learn' }),
      entry('a.test:22', { failed: 1, rule: 'learn' }),
      entry('host.containers.internal:8080', { denied: 1, reason: 'host-service' }),
    ]);
    expect(learnedRules(r)).toEqual(['a.test:22', 'b.test:443']);
    expect(learnLine(learnedRules(r))).toBe('network_allow = ["a.test:22", "b.test:443"]');
    expect(learnLine([])).toBe('network_allow = []');
  });
});
