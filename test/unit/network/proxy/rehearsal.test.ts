import { describe, expect, it } from 'vitest';
import { EgressServer, type EgressServerOptions } from '../../../../src/network/proxy/egress-server.js';
import { rehearse } from '../../../../src/network/proxy/rehearsal.js';

describe('proxy rehearsal', () => {
  it('answers its requests through a throwaway server of its own, once per process', async () => {
    const made: EgressServerOptions[] = [];
    const answered = await rehearse((options) => {
      made.push(options);
      return new EgressServer(options);
    }, 30);
    expect(answered).toBe(30);
    expect(made).toHaveLength(1);
    // its own policy, log and dialer: the session's are never handed to it
    expect(made[0]!.session).toBe('rehearsal');
    expect(made[0]!.policy.allow.map((r) => r.kind)).toEqual(['name']);
    expect(made[0]!.log.snapshot().destinations.map((d) => d.destination)).toEqual(['rehearsal.invalid:80']);
    expect(await rehearse((options) => new EgressServer(options))).toBe(0);
  });
});
