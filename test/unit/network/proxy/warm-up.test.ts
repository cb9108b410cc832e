import { describe, expect, it } from 'vitest';
import { newNetworkRecord } from '../../../../src/network/network-record.js';
import { policyText, type EgressPolicy } from '../../../../src/network/policy.js';
import { DestinationLog } from '../../../../src/network/proxy/destination-log.js';
import { EgressServer } from '../../../../src/network/proxy/egress-server.js';
import { warmUp } from '../../../../src/network/proxy/warm-up.js';
import { parseRules } from '../../../../src/network/rule.js';

describe('proxy warm-up', () => {
  const policy: EgressPolicy = { mode: 'allowlist', allow: parseRules(['api.example.com:443']), deny: [] };

  it("runs when a proxy is warmed, and records nothing, dials nothing (its host is not the policy's)", async () => {
    const persisted: unknown[] = [];
    const denied: unknown[] = [];
    const log = new DestinationLog(
      newNetworkRecord('s1', 'allowlist', policyText(policy), []),
      (r) => persisted.push(r),
      (d) => denied.push(d),
      0,
    );
    const dials: string[] = [];
    const proxy = new EgressServer({
      session: 's1',
      policy,
      log,
      dialer: {
        dial: async (dest) => {
          dials.push(dest.host);
          throw new Error('no dial in a warm-up');
        },
      },
    });
    proxy.warm();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    expect(dials).toEqual([]);
    expect(denied).toEqual([]);
    expect(log.snapshot().destinations).toEqual([]);
    proxy.close();
  });

  it('never throws, whatever the policy', () => {
    expect(() => warmUp({ mode: 'allowlist', allow: [], deny: [] })).not.toThrow();
    expect(() => warmUp(undefined as unknown as EgressPolicy)).not.toThrow();
  });
});
